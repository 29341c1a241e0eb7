package query

// WithoutIndexes makes Run ignore index probes and zone maps (metamorphic tests).
func WithoutIndexes(r *Request) { r.noIndex = true }
