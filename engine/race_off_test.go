//go:build !race

package engine

// raceEnabled: see race_on_test.go.
const raceEnabled = false

// powerLossSample: the power-loss test checks 1 in this many of the crash-point visits.
const powerLossSample = 1
