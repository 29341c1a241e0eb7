// Command authlake is the one binary: demo, ingest, export, query, stats, gen, bench, serve.
// It is thin: every command translates flags into calls on the engine, query, bench and server
// packages.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/authlake/authlake/engine"
	"github.com/authlake/authlake/internal/clock"
)

// exitError carries a specific exit status (2: finished, but some records were rejected).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	err := newRoot().Execute()
	stopProfiles() // also when the command failed or exits 2: a profile of a run with rejects is still wanted
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, "authlake:", ee.msg)
			}
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "authlake:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	memoryLimit = byteSize(engine.DefaultMemoryLimit) // a fresh root (tests make many) starts at the default
	root := &cobra.Command{
		Use:   "authlake",
		Short: "An embedded analytical engine for Microsoft Entra sign-in events",
		Long: `authlake stores Microsoft Entra sign-in events in compressed Arrow columns with
roaring-bitmap indexes, answers OData $filter queries, and serves the Microsoft Graph
sign-in API. Start with "authlake demo".`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var cpuProfile string
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	var heapProfile string
	var heapProf *peakHeapProfiler
	root.PersistentFlags().StringVar(&heapProfile, "heapprofile", "", "write the heap profile of the largest live heap to this file")
	root.PersistentFlags().MarkHidden("heapprofile")
	root.PersistentFlags().Var(&memoryLimit, "memory-limit",
		"memory budget of a command that opens a database: memtable, block cache and merges (docs/memory.md), and the Go runtime's soft limit")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		clk, err := clock.FromEnv()
		if err != nil {
			return err
		}
		now = clk
		// Ingest allocates short-lived decode buffers at a high rate; the default GOGC=100 spends
		// a fifth of the CPU in the collector. Trading some memory for CPU (GOGC=200; 400 doubled the
		// peak RSS of a 1M-event benchmark to 8 GB for a few percent) is the right default
		// for this binary (GOGC in the environment still wins).
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(200)
		}
		// GOGC=200 lets the heap grow to three times the live data; the soft limit from
		// --memory-limit makes the collector work harder near the budget instead.
		applyMemoryLimit()
		if heapProfile != "" {
			heapProf = startPeakHeapProfiler(heapProfile)
		}
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		return pprof.StartCPUProfile(f)
	}
	stopProfiles = func() {
		if cpuProfile != "" {
			pprof.StopCPUProfile()
		}
		if heapProf != nil {
			heapProf.Stop()
			heapProf = nil
		}
	}
	root.AddCommand(genCmd(), ingestCmd(), consumeCmd(), exportCmd(), statsCmd(), compactCmd())
	for _, c := range extraCommands {
		root.AddCommand(c())
	}
	return root
}

// stopProfiles ends the hidden --cpuprofile and --heapprofile profilers of the last root built;
// main calls it after Execute whatever the outcome (cobra's post-run hooks run only on success).
var stopProfiles = func() {}

// extraCommands lets commands in other files register themselves.
var extraCommands []func() *cobra.Command
