package httpload

import (
	"fmt"
	"os"
	"runtime/trace"
	"sync"
	"time"
)

// DefaultTraceFor is how much of the loaded phase Config.TracePath traces: enough requests of
// every route for their slowest to show, in a file of some tens of MB.
const DefaultTraceFor = 10 * time.Second

// startTrace starts an execution trace into path that stops after window, or when the returned
// function is called (which also closes the file and reports what went wrong).
func startTrace(path string, window time.Duration) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("execution trace: %w", err)
	}
	var once sync.Once
	end := func() { once.Do(trace.Stop) }
	timer := time.AfterFunc(window, end)
	return func() error {
		timer.Stop()
		end()
		return f.Close()
	}, nil
}
