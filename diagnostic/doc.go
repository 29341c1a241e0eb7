// Package diagnostic is the sign-in diagnostic: given what an administrator knows about a
// problem (a user, an application, a correlation or request id, a time, one sign-in event or
// the tenant's flagged sign-ins) it finds the sign-ins behind it and explains what happened,
// as Entra's "Diagnose and solve problems" tool does.
//
// It is built only on the engine's public query API: every lookup is an OData $filter run
// with query.Run or query.Aggregate over one engine snapshot, so the planner's indexes (user,
// application, correlation and request keys, status postings) and the ±48 hour time bound
// keep a diagnosis away from full scans, and --explain shows each plan.
//
// The scenarios it recognises (blocked by Conditional Access, MFA proof-up, smart lockout,
// password spray, …) are one table of data in scenarios.go: conditions, message templates,
// recommended actions and documentation links. The rest of the package evaluates that table;
// it never hard-codes a scenario's meaning elsewhere.
//
// Surfaces: Diagnoser.Diagnose and Diagnoser.Flagged for Go callers, NewHandler for HTTP
// (JSON; the caller authenticates and checks a reader role such as AuditLog.Read.All), and
// the `authlake diagnose` command, which renders Report.Text.
package diagnostic
