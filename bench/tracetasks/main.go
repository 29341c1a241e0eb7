// Command tracetasks says where the time of a traced server's slowest requests went. It reads
// an execution trace in which each request is a task that logs its route
// (`authlake bench load --trace FILE`, or any trace of an authlake server: server.traceRequest)
// and prints, route by route, the requests' latencies and, for the slowest 1%, the mean time
// of the request's own goroutine and of the goroutines working for it (query workers) in each
// state: running, runnable (waiting for a P), in a system call, or waiting, with the reason
// and the code that waited.
//
//	go run ./bench/tracetasks [--by route] [--top 6] FILE
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/authlake/authlake/internal/tasktrace"
)

func main() {
	by := flag.String("by", "route", "the task log category to group tasks by")
	top := flag.Int("top", 6, "states shown for each part of a group")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: tracetasks [--by route] [--top 6] TRACE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *by, *top); err != nil {
		fmt.Fprintln(os.Stderr, "tracetasks:", err)
		os.Exit(1)
	}
}

func run(path, by string, top int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tasks, err := tasktrace.Analyze(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	groups := tasktrace.Summarize(tasks, by)
	if len(groups) == 0 {
		return fmt.Errorf("%s: %d tasks, none logged a %q", path, len(tasks), by)
	}
	return tasktrace.Write(os.Stdout, groups, top)
}
