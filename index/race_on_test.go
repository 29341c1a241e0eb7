//go:build race

package index

// raceEnabled: under the race detector (CI's second run) the exhaustive corruption test flips
// each byte one way, not three; the ordinary runs flip every byte every way.
const raceEnabled = true
