//go:build !unix

package vfs

import "os"

// flock does nothing outside unix: there, exclusion is the caller's job.
func flock(*os.File) error { return nil }
