// Command peer runs authlake's benchmark work on DuckDB, the side-by-side peer: it loads
// Microsoft Graph beta signIn NDJSON into a persistent DuckDB database with an explicit schema,
// then times the SQL equivalent of each authlake benchmark query and prints JSON.
//
// It is a module of its own (bench/peer/go.mod) so that the main authlake module never needs cgo
// or DuckDB's libraries; see README.md.
//
//	peer gen    --events N --seed S --out FILE.ndjson
//	peer load   --ndjson FILE[,FILE…] --db FILE --threads N
//	peer params --db FILE [--out FILE.json]
//	peer query  --db FILE --threads N --runs R --params FILE.json
//	peer sql    (prints the schema and the query table)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/authlake/authlake/bench"
	"github.com/authlake/authlake/bench/gen"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "gen":
		err = cmdGen(os.Args[2:])
	case "load":
		err = cmdLoad(ctx, os.Args[2:])
	case "params":
		err = cmdParams(ctx, os.Args[2:])
	case "query":
		err = cmdQuery(ctx, os.Args[2:])
	case "sql":
		cmdSQL(os.Stdout)
	case "-h", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "peer: unknown command %q\n", os.Args[1])
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peer:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  peer gen    --events N [--seed S] --out FILE.ndjson      generate events with bench/gen
  peer load   --ndjson FILE[,FILE...] --db FILE [--threads N] [--memory-limit 8GB] [--out FILE.json]
  peer params --db FILE [--out FILE.json]                   pick query params from the data
  peer query  --db FILE --params FILE.json [--threads N] [--runs R] [--memory-limit 8GB] [--out FILE.json]
  peer sql                                                  print the DDL and the query suite
`)
	os.Exit(2)
}

func dbFlags(fs *flag.FlagSet) *openOptions {
	o := &openOptions{}
	fs.StringVar(&o.Path, "db", "", "DuckDB database file")
	fs.IntVar(&o.Threads, "threads", 0, "DuckDB threads (SET threads); 0 = one per core")
	fs.StringVar(&o.MemoryLimit, "memory-limit", "", "DuckDB memory_limit, e.g. 8GB (default: 80% of RAM)")
	return o
}

func cmdGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	events := fs.Int("events", 1_000_000, "number of events")
	seed := fs.Uint64("seed", 1, "generator seed")
	out := fs.String("out", "", "output NDJSON file")
	fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("gen: --out is required")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	n, b, err := gen.Write(f, gen.Config{Events: *events, Seed: *seed, End: gen.BenchEnd})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return writeJSON("", map[string]any{"file": *out, "events": n, "bytes": b})
}

func cmdLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	o := dbFlags(fs)
	files := fs.String("ndjson", "", "comma-separated NDJSON files")
	out := fs.String("out", "", "also write the report to this file")
	fs.Parse(args)
	var list []string
	for f := range strings.SplitSeq(*files, ",") {
		if f = strings.TrimSpace(f); f != "" {
			list = append(list, f)
		}
	}
	r, err := load(ctx, *o, list)
	if err != nil {
		return err
	}
	return writeJSON(*out, r)
}

func cmdParams(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("params", flag.ExitOnError)
	o := dbFlags(fs)
	out := fs.String("out", "", "write the params to this file (also printed)")
	fs.Parse(args)
	p, err := pickParams(ctx, *o)
	if err != nil {
		return err
	}
	return writeJSON(*out, p)
}

func cmdQuery(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("query", flag.ExitOnError)
	o := dbFlags(fs)
	runs := fs.Int("runs", 10, "warm runs per query")
	pf := fs.String("params", "", "params JSON file; empty picks them from the data (as `peer params`)")
	out := fs.String("out", "", "also write the report to this file")
	fs.Parse(args)
	var p params
	var err error
	if *pf != "" {
		p, err = readParams(*pf)
	} else {
		p, err = pickParams(ctx, *o)
	}
	if err != nil {
		return err
	}
	r, _, err := runSuite(ctx, *o, p, *runs)
	if err != nil {
		return err
	}
	return writeJSON(*out, r)
}

func cmdSQL(w io.Writer) {
	fmt.Fprintf(w, "%s;\n\n%s;\n", createTableSQL(), insertSQL([]string{"FILE.ndjson"}))
	for _, q := range bench.Suite {
		fmt.Fprintf(w, "\n-- %s (%s) Graph $filter: %s\n%s;\n", q.ID, q.Kind, q.Graph, q.SQL)
	}
}

// writeJSON prints v indented to stdout and, if path is set, to that file too.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path != "" {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	_, err = os.Stdout.Write(b)
	return err
}
