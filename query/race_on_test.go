//go:build race

package query_test

// raceEnabled: under the race detector (CI's second run) the random differential test checks
// fewer filters of the same kinds; the ordinary runs check them all.
const raceEnabled = true
