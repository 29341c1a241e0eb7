// Package server is authlake's Microsoft Graph-compatible HTTP API: the sign-in list and get
// endpoints (/v1.0 and /beta), bearer-token authentication against configured signing keys with
// tenant isolation by the token's tid, built-in client-credentials token endpoints for local
// use, HTTP ingest, flagged sign-in windows, per-tenant rate limits, Prometheus metrics and
// health probes. It is thin: it translates HTTP to engine, query and flagging calls and knows
// nothing about file formats.
package server
