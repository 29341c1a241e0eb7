//go:build !race

package index

// raceEnabled: see race_on_test.go.
const raceEnabled = false
