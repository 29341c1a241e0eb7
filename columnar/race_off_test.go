//go:build !race

package columnar

// mutationRounds: see race_on_test.go.
const mutationRounds = 1
