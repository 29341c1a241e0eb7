// Package tasktrace reads Go execution traces (runtime/trace) task by task: how long each task
// took, what was logged into it, and where the time of its goroutines went (running, waiting for
// a P, in a system call, or waiting, with the reason and the code that waited). A task's
// goroutines are those inside its regions: the server makes each request a task whose handler
// runs in a region HandlerRegion (server.traceRequest), and a query's workers run in regions of
// the same task. bench/tracetasks prints it; tests use it to check what a trace holds.
package tasktrace

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

// States a goroutine's time is counted in. A waiting goroutine's time is counted under
// "waiting: REASON at FUNCTION", the first frame of its stack outside the runtime and the
// standard library's sync, so that a request blocked on its own workers and one blocked on a
// lock read apart.
const (
	stateRunning  = "running"
	stateRunnable = "runnable (waiting for a P)"
	stateSyscall  = "in a system call"
	waitingPrefix = "waiting: "
)

// Task is one task of the trace (one HTTP request, for traces of the server) and where its
// goroutines' time went while they worked for it.
type Task struct {
	ID       trace.TaskID
	Type     string
	Logs     map[string]string // category → the last message logged into the task
	Duration time.Duration     // from its begin to its end
	// Handler is the time of the goroutines inside the task's regions named HandlerRegion,
	// by state; All is every goroutine's inside any region of the task (their sum may pass
	// Duration: goroutines work side by side).
	Handler, All map[string]time.Duration
}

// HandlerRegion names the region a request's own goroutine runs in (server.traceRequest).
const HandlerRegion = "request"

// spawnedRegion is the region a goroutine made inside a task's region is taken to be in until
// it ends (it has no region event of its own).
const spawnedRegion = "(made in the task)"

// region is one region open on a goroutine.
type region struct {
	task trace.TaskID
	typ  string
}

// goroutine is what the analysis knows of one goroutine.
type goroutine struct {
	state   string // "" while unknown (the goroutine was running when the trace began)
	since   trace.Time
	regions []region
}

// Analyze reads an execution trace and returns its tasks that both began and ended in it, in
// the order they began.
func Analyze(r io.Reader) ([]*Task, error) {
	rd, err := trace.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading the trace: %w", err)
	}
	tasks := map[trace.TaskID]*Task{}
	begun := map[trace.TaskID]trace.Time{}
	var order []trace.TaskID
	gs := map[trace.GoID]*goroutine{}
	g := func(id trace.GoID) *goroutine {
		x := gs[id]
		if x == nil {
			x = &goroutine{}
			gs[id] = x
		}
		return x
	}
	// count adds the time since x's last change to the task of x's innermost open region, and
	// to its Handler when that region is the handler's, while the task has not ended.
	count := func(x *goroutine, now trace.Time) {
		if x.state != "" && len(x.regions) > 0 {
			in := x.regions[len(x.regions)-1]
			if t := tasks[in.task]; t != nil && t.Duration == 0 {
				d := time.Duration(now - x.since)
				t.All[x.state] += d
				if in.typ == HandlerRegion {
					t.Handler[x.state] += d
				}
			}
		}
		x.since = now
	}
	for {
		ev, err := rd.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the trace: %w", err)
		}
		now := ev.Time()
		switch ev.Kind() {
		case trace.EventTaskBegin:
			tk := ev.Task()
			tasks[tk.ID] = &Task{ID: tk.ID, Type: tk.Type, Logs: map[string]string{}, Handler: map[string]time.Duration{}, All: map[string]time.Duration{}}
			begun[tk.ID] = now
			order = append(order, tk.ID)
		case trace.EventTaskEnd:
			if t := tasks[ev.Task().ID]; t != nil {
				t.Duration = time.Duration(now - begun[t.ID])
			}
		case trace.EventLog:
			l := ev.Log()
			if t := tasks[l.Task]; t != nil {
				t.Logs[l.Category] = l.Message
			}
		case trace.EventRegionBegin:
			x := g(ev.Goroutine())
			count(x, now)
			x.state = stateRunning // a region begins on its own goroutine, running
			x.regions = append(x.regions, region{task: ev.Region().Task, typ: ev.Region().Type})
		case trace.EventRegionEnd:
			x := g(ev.Goroutine())
			count(x, now)
			// A region that began before the trace ends without its begin: nothing is open.
			if n := len(x.regions); n > 0 && x.regions[n-1].typ == ev.Region().Type {
				x.regions = x.regions[:n-1]
			}
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			x := g(st.Resource.Goroutine())
			count(x, now)
			from, to := st.Goroutine()
			switch {
			case from == to && x.state != "":
				// The runtime restates every goroutine's state at each trace generation (about
				// a second): a wait that spans one is still the wait it was.
			case from == trace.GoNotExist && to == trace.GoRunnable:
				// A goroutine made inside a task's region works for that task until it enters
				// regions of its own: its first wait for a P (a worker's, under load) counts.
				x.state = stateRunnable
				if c := gs[ev.Goroutine()]; c != nil && len(c.regions) > 0 {
					in := c.regions[len(c.regions)-1]
					x.regions = append(x.regions, region{task: in.task, typ: spawnedRegion})
				}
			default:
				x.state = stateName(to, st)
			}
			if to == trace.GoNotExist {
				delete(gs, st.Resource.Goroutine())
			}
		}
	}
	var out []*Task
	for _, id := range order {
		if t := tasks[id]; t.Duration > 0 {
			out = append(out, t)
		}
	}
	return out, nil
}

// stateName is the state a transition leads to, as the analysis counts it.
func stateName(to trace.GoState, st trace.StateTransition) string {
	switch to {
	case trace.GoRunning:
		return stateRunning
	case trace.GoRunnable:
		return stateRunnable
	case trace.GoSyscall:
		return stateSyscall
	case trace.GoWaiting:
		if st.Reason == "" {
			return waitingPrefix + "since before the trace at " + blockedIn(st.Stack)
		}
		return waitingPrefix + st.Reason + " at " + blockedIn(st.Stack)
	}
	return "" // not existing, or a state this analysis does not know
}

// blockedIn names where a goroutine waited: the first frame of stack outside the runtime, sync
// and internal packages (the call that waited: time.Sleep, sync.(*WaitGroup).Wait is shown as
// its caller), then, when that is the standard library's, the first frame of a module's code
// ("time.Sleep in engine.(*DB).x"). Module paths lose their first two elements.
func blockedIn(stack trace.Stack) string {
	call, mod := "", ""
	for f := range stack.Frames() {
		name := f.Func
		if call == "" && !inRuntime(name) {
			call = name
		}
		if call != "" && isModule(name) {
			mod = shortName(name)
			break
		}
	}
	switch {
	case call == "":
		return "?"
	case isModule(call):
		return mod
	case mod == "":
		return call
	}
	return call + " in " + mod
}

// inRuntime reports whether a function is the runtime's, sync's or an internal package's: the
// machinery of waiting, not what waited.
func inRuntime(fn string) bool {
	for _, p := range []string{"runtime.", "runtime/", "sync.", "sync/", "internal/"} {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// isModule reports whether a function is outside the standard library: its path's first
// element has a dot (github.com/...).
func isModule(fn string) bool {
	first, _, _ := strings.Cut(fn, "/")
	return strings.Contains(first, ".") && strings.Contains(fn, "/")
}

// shortName drops a module function's host and owner: github.com/authlake/authlake/engine.f is
// authlake/engine.f.
func shortName(fn string) string {
	parts := strings.SplitN(fn, "/", 3)
	if len(parts) == 3 {
		return parts[2]
	}
	return fn
}

// Group is the tasks of one key (a route) and where the time of its slowest went.
type Group struct {
	Key              string
	N                int
	P50, P99, Max    time.Duration
	Slowest          int // how many of the slowest tasks the breakdowns below average over
	SlowestMean      time.Duration
	Handler, Workers []Share // the slowest tasks' mean time by state, largest first
}

// Share is a mean time in one state: of the group's slowest tasks, and of all its tasks, with
// how many of them spent any time in it.
type Share struct {
	State   string
	Mean    time.Duration // over the slowest
	MeanAll time.Duration // over all the group's tasks
	In      int           // tasks of the group with time in this state
}

// Summarize groups tasks by their log in category key (tasks without it are left out) and, for
// each group, averages the breakdown of its slowest: the slowest 1%, at least one.
func Summarize(tasks []*Task, key string) []Group {
	by := map[string][]*Task{}
	for _, t := range tasks {
		if k, ok := t.Logs[key]; ok {
			by[k] = append(by[k], t)
		}
	}
	var out []Group
	for _, k := range slices.Sorted(maps.Keys(by)) {
		ts := by[k]
		slices.SortFunc(ts, func(a, b *Task) int { return cmp.Compare(a.Duration, b.Duration) })
		gr := Group{Key: k, N: len(ts), P50: at(ts, 0.5), P99: at(ts, 0.99), Max: ts[len(ts)-1].Duration}
		slow := ts[len(ts)-max(1, len(ts)/100):]
		gr.Slowest = len(slow)
		for _, t := range slow {
			gr.SlowestMean += t.Duration / time.Duration(len(slow))
		}
		gr.Handler = shares(slow, ts, func(t *Task, s string) time.Duration { return t.Handler[s] }, func(t *Task) map[string]time.Duration { return t.Handler })
		// The other goroutines': workers, reads side by side.
		gr.Workers = shares(slow, ts, func(t *Task, s string) time.Duration { return t.All[s] - t.Handler[s] }, func(t *Task) map[string]time.Duration { return t.All })
		out = append(out, gr)
	}
	return out
}

// at is the q-quantile of durations sorted ascending (nearest rank).
func at(ts []*Task, q float64) time.Duration {
	i := int(q*float64(len(ts))+0.5) - 1
	return ts[min(max(i, 0), len(ts)-1)].Duration
}

// shares is the time in each state of the slowest tasks (by time, of states some of them
// spent time in), beside the same over all: in(t, state) is a task's time in a state,
// states(t) the map whose keys are its states.
func shares(slow, all []*Task, in func(*Task, string) time.Duration, states func(*Task) map[string]time.Duration) []Share {
	sum := map[string]time.Duration{}
	for _, t := range slow {
		for s := range states(t) {
			sum[s] += in(t, s)
		}
	}
	var out []Share
	for s, d := range sum {
		if d <= 0 {
			continue
		}
		sh := Share{State: s, Mean: d / time.Duration(len(slow))}
		var total time.Duration
		for _, t := range all {
			if x := in(t, s); x > 0 {
				total += x
				sh.In++
			}
		}
		sh.MeanAll = total / time.Duration(len(all))
		out = append(out, sh)
	}
	slices.SortFunc(out, func(a, b Share) int {
		return cmp.Or(cmp.Compare(b.Mean, a.Mean), strings.Compare(a.State, b.State))
	})
	return out
}

// Write prints groups as text: each group's latencies (nearest rank), then its slowest tasks'
// handler and worker time by state (the first top states of each, all when top is 0), each beside the mean over all the
// group's tasks and how many of them spent time in that state.
func Write(w io.Writer, groups []Group, top int) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
	for _, g := range groups {
		if _, err := fmt.Fprintf(w, "%s: %d tasks, p50 %s, p99 %s, max %s; the slowest %d (mean %s):\n",
			g.Key, g.N, ms(g.P50), ms(g.P99), ms(g.Max), g.Slowest, ms(g.SlowestMean)); err != nil {
			return err
		}
		for _, part := range []struct {
			name   string
			shares []Share
		}{{"handler", g.Handler}, {"other goroutines", g.Workers}} {
			for i, s := range part.shares {
				if i == top && top > 0 {
					break
				}
				if _, err := fmt.Fprintf(w, "    %-16s %10s  (all: %s, in %d of %d)  %s\n", part.name, ms(s.Mean), ms(s.MeanAll), s.In, g.N, s.State); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
