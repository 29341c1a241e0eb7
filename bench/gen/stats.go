package gen

// counters is the hot-path form of Stats: fixed arrays, no maps.
type counters struct {
	bytes       int64
	byKind      [numKinds]int64
	byOutcome   [numOutcomes]int64
	flagged     int64
	flaggedFail int64
	cross       int64
	passthrough int64
	risky       int64
	flows       int64
}

// Stats is ground truth about the events emitted so far.
type Stats struct {
	Events int64
	Bytes  int64 // NDJSON bytes including newlines
	// ByEventType counts events per signInEventTypes value.
	ByEventType map[string]int64
	// Failures counts events with status.errorCode != 0.
	Failures       int64
	FailuresByCode map[int]int64
	// Flagged counts flaggedForReview=true events; FlaggedFailures those
	// of them that are failures.
	Flagged         int64
	FlaggedFailures int64
	// CrossTenant counts events whose homeTenantId is set and differs from
	// resourceTenantId (B2B guests and passthrough).
	CrossTenant int64
	Passthrough int64
	// Risky counts events with riskLevelDuringSignIn other than none.
	Risky   int64
	Flows   int64
	Windows int
}

// Stats returns counts for the events emitted so far.
func (g *Generator) Stats() Stats {
	s := Stats{
		Events:          int64(g.emitted),
		Bytes:           g.stats.bytes,
		ByEventType:     make(map[string]int64, numKinds),
		FailuresByCode:  make(map[int]int64),
		Flagged:         g.stats.flagged,
		FlaggedFailures: g.stats.flaggedFail,
		CrossTenant:     g.stats.cross,
		Passthrough:     g.stats.passthrough,
		Risky:           g.stats.risky,
		Flows:           g.stats.flows,
		Windows:         len(g.windows),
	}
	for k, n := range g.stats.byKind {
		s.ByEventType[kindNames[k]] = n
	}
	for o, n := range g.stats.byOutcome {
		if c := outcomes[o].code; c != 0 && n > 0 {
			s.FailuresByCode[int(c)] += n
			s.Failures += n
		}
	}
	return s
}
