// Package input is the streaming front door of ingest: it turns a byte stream
// (plain, gzip or zstd; NDJSON, single objects, arrays, Microsoft Graph pages
// or Azure Monitor diagnostic-settings exports) into raw JSON sign-in records
// with their positions, in constant memory.
//
// It frames records and validates only as much JSON syntax as needed to find
// where each record ends; decoding the sign-in fields is left to the caller,
// which gets Record.Raw. Framing errors come back as bad records (Record.Err
// set, Raw verbatim) so that the caller can quarantine them and keep ingesting
// every good record; only I/O and decompression failures end the stream.
package input
