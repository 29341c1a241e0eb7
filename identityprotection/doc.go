// Package identityprotection is authlake's Microsoft Entra ID Protection
// feature: detectors that read the sign-in stream and raise riskDetection
// records, the risky-user state machine and admin actions, a durable risk
// overlay that gives immutable sign-ins their current risk fields at read time,
// the three reports (risky users, risky sign-ins, risk detections) with
// retention and export caps, and the Graph identityProtection routes as an
// http.Handler that the server mounts.
//
// Sign-in events are never rewritten: everything this package decides lives in
// its own append-only log next to the database (DIR/identityprotection), which
// is replayed on Open. Detection ids are content hashes, so re-running a
// detection job over events it already saw appends nothing new.
//
// The query package can only bind filters against the sign-in schema (columnar
// has no exported schema builder), so $filter/$orderby on detections and risky
// users are parsed with query/syntax and evaluated by the small evaluator in
// odata.go over the in-memory records.
package identityprotection
