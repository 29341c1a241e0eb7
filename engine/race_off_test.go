//go:build !race

package engine

// raceEnabled: see race_on_test.go.
const raceEnabled = false

// powerLossSample: the power-loss test checks 1 in this many of the crash-point visits.
const powerLossSample = 1

// diskFullSample: the disk-full test fails 1 in this many of a flush's and a compaction's writes.
const diskFullSample = 1
