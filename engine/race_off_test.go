//go:build !race

package engine

// raceEnabled: see race_on_test.go.
const raceEnabled = false

// powerLossSample: the power-loss test checks 1 in this many of the crash-point visits (and
// always each point's first visit). CI runs the engine's tests twice; 1 in 3 keeps the plain
// run's share under 15 s on this machine kind, and the visits checked differ from point to point.
const powerLossSample = 3

// diskFullSample: the disk-full test fails 1 in this many of a flush's and a compaction's writes.
const diskFullSample = 2
