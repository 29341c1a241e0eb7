// Package bench is authlake's benchmark harness: it generates realistic events (cached by seed
// and size), measures ingest to durable indexed segments, bytes on disk, and the query suite
// (cold and warm), runs the same work on DuckDB through the separate bench/peer module when
// asked, cross-checks every answer between the engines, and writes results JSON and an SVG chart.
// A benchmark that returns a wrong answer fast is a bug: a mismatch fails the run.
package bench
