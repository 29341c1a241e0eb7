// Package gen generates realistic, deterministic Microsoft Graph beta signIn
// events as NDJSON for benchmarks and tests.
//
// Output depends only on Config: every random choice flows from PCG sources
// seeded from Config.Seed, users and devices are derived from per-entity
// seeds (so they do not depend on the order in which they are first used),
// and no map iteration or wall-clock time is involved. The same Config
// therefore yields byte-identical output on every machine.
//
// The generator models a single resource tenant: Zipf-distributed users and
// apps, multi-step interactive flows sharing a correlationId, non-interactive
// token refresh bursts, service-principal and managed-identity sign-ins, a
// realistic AADSTS failure mix, Conditional Access evaluation, guests, risk
// and the Entra "flag for review" 20-minute rule. Ground truth (per-type
// counts, failures per code, flagging windows) is exposed so that tests in
// other packages can check ingest and query results against it.
package gen
