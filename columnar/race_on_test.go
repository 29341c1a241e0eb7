//go:build race

package columnar

// mutationRounds: under the race detector (CI's second run) the mutation tests, deterministic
// stand-ins for fuzzing that run on one goroutine, damage a sixth as many frames; the ordinary
// runs damage them all.
const mutationRounds = 6
