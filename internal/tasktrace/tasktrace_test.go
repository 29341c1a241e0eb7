package tasktrace

import (
	"bytes"
	"context"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"
)

// traced records a trace of n requests shaped as the server makes them (server.traceRequest):
// a task "http" whose handler runs in a region "request" and starts a worker in a region of its
// own; each sleeps once (a sleeping goroutine always parks: the states below do not depend on
// timing), and the task logs its route. One more task logs no route.
func traced(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	request := func(route string) {
		ctx, task := trace.NewTask(context.Background(), "http")
		defer task.End()
		trace.WithRegion(ctx, HandlerRegion, func() {
			var wg sync.WaitGroup
			wg.Go(func() {
				defer trace.StartRegion(ctx, "query worker").End()
				time.Sleep(time.Millisecond)
			})
			wg.Go(sleepWithoutRegion) // a goroutine made in the task, with no region of its own
			time.Sleep(time.Millisecond)
			wg.Wait()
		})
		if route != "" {
			trace.Log(ctx, "route", route)
		}
	}
	for i := range n {
		request([]string{"get", "list"}[i%2])
	}
	request("")
	trace.Stop()
	return buf.Bytes()
}

func TestAnalyzeAttributesRequestsGoroutines(t *testing.T) {
	tasks, err := Analyze(bytes.NewReader(traced(t, 6)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 7 {
		t.Fatalf("%d tasks, want 7", len(tasks))
	}
	for _, tk := range tasks {
		if tk.Type != "http" || tk.Duration < time.Millisecond {
			t.Errorf("task %d: type %q, %v long: want http, at least a sleep", tk.ID, tk.Type, tk.Duration)
		}
		// The handler slept in its own code, the worker in the worker's.
		if !hasState(tk.Handler, "waiting: sleep at time.Sleep in ", "internal/tasktrace.traced.func") {
			t.Errorf("task %d: the handler's states %v name no sleep in the test's code", tk.ID, tk.Handler)
		}
		if f := workerFunc(tk); !strings.Contains(f, "internal/tasktrace.traced.func") {
			t.Errorf("task %d: the worker's sleep is not counted in its code (%s): %v", tk.ID, f, tk.All)
		}
		// A goroutine the handler made counts for the task from its making: its first wait for
		// a P and its sleep, though it has no region.
		if !hasState(tk.All, "waiting: sleep at time.Sleep in ", "sleepWithoutRegion") || tk.All[stateRunnable] <= tk.Handler[stateRunnable] {
			t.Errorf("task %d: the time of a goroutine it made is not counted: %v", tk.ID, tk.All)
		}
	}
	groups := Summarize(tasks, "route")
	if len(groups) != 2 || groups[0].Key != "get" || groups[1].Key != "list" {
		t.Fatalf("groups %+v, want get and list (the task without a route left out)", groups)
	}
	for _, g := range groups {
		if g.N != 3 || g.Slowest != 1 || g.P50 > g.P99 || g.P99 > g.Max || g.SlowestMean != g.Max {
			t.Errorf("group %s: %+v", g.Key, g)
		}
		if !sharesName(g.Workers, "waiting: sleep at ") {
			t.Errorf("group %s: the workers' shares %v have no sleep", g.Key, g.Workers)
		}
	}
	var out strings.Builder
	if err := Write(&out, groups, 3); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "get: 3 tasks, p50 ") || !strings.Contains(out.String(), "other goroutines") {
		t.Errorf("report:\n%s", out.String())
	}
}

func sleepWithoutRegion() { time.Sleep(time.Millisecond) }

// workerFunc is where the task's states say the worker (not the handler) slept in traced.
func workerFunc(tk *Task) string {
	for s := range tk.All {
		if f, ok := strings.CutPrefix(s, waitingPrefix+"sleep at "); ok && tk.Handler[s] == 0 && strings.Contains(f, "traced.func") {
			return f
		}
	}
	return "(none)"
}

func hasState(m map[string]time.Duration, prefix, fn string) bool {
	for s, d := range m {
		if strings.HasPrefix(s, prefix) && strings.Contains(s, fn) && d > 0 {
			return true
		}
	}
	return false
}

func sharesName(shares []Share, prefix string) bool {
	for _, s := range shares {
		if strings.HasPrefix(s.State, prefix) && s.Mean > 0 {
			return true
		}
	}
	return false
}

func TestAnalyzeRefusesWhatIsNotATrace(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("not a trace"), traced(t, 2)[:40]} {
		if _, err := Analyze(bytes.NewReader(in)); err == nil || !strings.Contains(err.Error(), "reading the trace") {
			t.Errorf("Analyze(%.20q): %v, want a reading error", in, err)
		}
	}
}

// FuzzAnalyze feeds the analysis damaged traces: it returns an error or tasks, never panics.
func FuzzAnalyze(f *testing.F) {
	f.Add(traced(f, 2))
	f.Add([]byte("go 1.26 trace\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tasks, err := Analyze(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, tk := range tasks {
			if tk.Duration <= 0 {
				t.Fatalf("a task of %v was returned", tk.Duration)
			}
		}
		Summarize(tasks, "route")
	})
}
