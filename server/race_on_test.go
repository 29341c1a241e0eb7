//go:build race

package server

// equivRowSample: under the race detector (CI's second run) TestEncoderAdaptsAsRewriteDid
// compares 1 in this many generated rows (and every hand-written one) through encoding/json, in
// each of its 32 cases: all of them took 80 s there. The plain run compares every row.
const equivRowSample = 8
