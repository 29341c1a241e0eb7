package main

import "github.com/authlake/authlake/internal/clock"

// now is the process clock: the wall clock, or from AUTHLAKE_NOW (see internal/clock). Every
// command that decides from the current time (retention, token lifetimes, default windows of
// generated events, detection watermarks) reads it and hands it to what it opens. The root
// command sets it before any command runs.
var now clock.Func = clock.Real
