//go:build race

package main

// roundTripEvents: under the race detector (CI's second run) the gen → ingest → export round
// trip moves fewer events: comparing 20,000 of them through encoding/json took most of the
// package's time there. The plain run moves them all.
const roundTripEvents = 4000
