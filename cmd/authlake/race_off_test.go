//go:build !race

package main

// roundTripEvents: see race_on_test.go.
const roundTripEvents = 20000

// demoTestEvents: see race_on_test.go.
const demoTestEvents = 20000
