//go:build race

package main

// roundTripEvents: under the race detector (CI's second run) the gen → ingest → export round
// trip moves fewer events: comparing 20,000 of them through encoding/json took most of the
// package's time there. The plain run moves them all.
const roundTripEvents = 4000

// demoTestEvents is the demo's size in TestDemoNoServeThenCurlCommands: under the race detector
// 20,000 events took 51 s, 4,000 take 31; any few thousand hold flagged sign-ins and failures
// for the three commands it runs.
const demoTestEvents = 4000
