//go:build race

package engine

// raceEnabled: under the race detector (CI's second run) the crash and metamorphic tests do
// fewer rounds of the same work; the ordinary runs do them all.
const raceEnabled = true

// powerLossSample: the power-loss test checks 1 in this many of the crash-point visits.
const powerLossSample = 12

// diskFullSample: the disk-full test fails 1 in this many of a flush's and a compaction's writes.
const diskFullSample = 10
