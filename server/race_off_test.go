//go:build !race

package server

// equivRowSample: see race_on_test.go.
const equivRowSample = 1
