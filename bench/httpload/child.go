package httpload

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// The clients' child process (Config.ClientCommand) is told the plan, then one request per
// phase step, each a line of JSON on its stdin; it answers each with a line of JSON on its
// stdout. Its stderr is the run's log.

// clientRequest is one line the run sends its client process.
type clientRequest struct {
	Op    string      `json:"op"` // plan, alone, loaded, ingestAlone, count, getAll
	Plan  *clientPlan `json:"plan,omitempty"`
	Route int         `json:"route,omitempty"`
	N     int         `json:"n,omitempty"`
	IDs   []string    `json:"ids,omitempty"`
}

// clientAnswer is the line the client process answers with.
type clientAnswer struct {
	Err        string       `json:"err,omitempty"`
	Canceled   bool         `json:"canceled,omitempty"` // Err is the clients' context ending
	Stat       *RouteStat   `json:"stat,omitempty"`
	Lat        [][]float64  `json:"lat,omitempty"`
	Ingest     ingestTotals `json:"ingest"`
	Secs       float64      `json:"secs,omitempty"`
	GenSeconds float64      `json:"genSeconds"`
	Count      int64        `json:"count,omitempty"`
	Gets       int          `json:"gets,omitempty"`
	Failed     int64        `json:"failed"`
	Failures   []string     `json:"failures,omitempty"`
}

// ServeClients runs a client process: it reads the plan and the run's requests from in and
// answers each on out, until in ends. cmd/authlake's hidden `bench load-clients` calls it, with
// a ctx that ends at an interrupt: the run's own interrupt reaches the child as one
// (childClients), and the phase it was in ends early with what it measured, as it does when
// the clients run in the run's process.
func ServeClients(ctx context.Context, in io.Reader, out io.Writer) error {
	dec, enc := json.NewDecoder(bufio.NewReader(in)), json.NewEncoder(out)
	var l *localClients
	for {
		var req clientRequest
		if err := dec.Decode(&req); errors.Is(err, io.EOF) {
			if l != nil {
				return l.close()
			}
			return nil
		} else if err != nil {
			return fmt.Errorf("load clients: reading the run's request: %w", err)
		}
		var a clientAnswer
		var err error
		switch {
		case req.Op == "plan" && req.Plan != nil && l == nil:
			l = newLocalClients(*req.Plan)
		case l == nil:
			err = fmt.Errorf("load clients: %q before the plan", req.Op)
		case req.Op == "alone" && req.Route >= 0 && req.Route < len(l.routes):
			var st RouteStat
			st, err = l.alone(ctx, req.Route, req.N)
			a.Stat = &st
		case req.Op == "loaded":
			a.Lat, a.Ingest, a.Secs, err = l.loaded(ctx)
		case req.Op == "ingestAlone":
			a.Ingest, a.Secs, err = l.ingestAlone(ctx)
		case req.Op == "count":
			a.Count, err = l.count(ctx)
		case req.Op == "getAll":
			a.Gets, err = l.getAll(ctx, req.IDs)
		default:
			err = fmt.Errorf("load clients: unknown request %q (route %d)", req.Op, req.Route)
		}
		if err != nil {
			a.Err, a.Canceled = err.Error(), errors.Is(err, context.Canceled)
		}
		if l != nil {
			a.GenSeconds = l.genSeconds()
			a.Failed, a.Failures = l.failures()
		}
		if err := enc.Encode(a); err != nil {
			return fmt.Errorf("load clients: answering the run: %w", err)
		}
	}
}

// childClients drives the clients in a child process.
type childClients struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	enc *json.Encoder
	dec *json.Decoder

	mu     sync.Mutex // the last answer's counters
	gen    float64
	failed int64
	first  []string

	waitOnce sync.Once
	waitErr  error
}

// startChildClients starts argv as the clients' process and sends it the plan. The process
// ends with ctx.
func startChildClients(ctx context.Context, argv []string, p clientPlan, log io.Writer) (*childClients, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = logWriter(log)
	cmd.Env = os.Environ()
	// When the run's context ends (an interrupt), the child is interrupted rather than killed:
	// it answers the request in hand with what it measured. One that does not end within
	// childGrace is killed.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = childGrace
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the load clients' process: %w", err)
	}
	c := &childClients{cmd: cmd, in: in, enc: json.NewEncoder(in), dec: json.NewDecoder(bufio.NewReader(out))}
	if _, err := c.ask(clientRequest{Op: "plan", Plan: &p}); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// childGrace is how long an interrupted or finished client process has to end.
const childGrace = 30 * time.Second

// ask sends one request and waits for its answer. A process that cannot be talked to is
// killed, and its exit status is part of the error.
func (c *childClients) ask(req clientRequest) (clientAnswer, error) {
	var a clientAnswer
	err := c.enc.Encode(req)
	if err == nil {
		err = c.dec.Decode(&a)
	}
	if err != nil {
		c.cmd.Process.Kill()
		return a, fmt.Errorf("load clients' process: %s: %w (the process: %v)", req.Op, err, c.wait())
	}
	c.mu.Lock()
	c.gen, c.failed, c.first = a.GenSeconds, a.Failed, a.Failures
	c.mu.Unlock()
	switch {
	case a.Canceled:
		return a, fmt.Errorf("%s: %w", a.Err, context.Canceled)
	case a.Err != "":
		return a, errors.New(a.Err)
	}
	return a, nil
}

// wait waits for the process once, and returns how it ended.
func (c *childClients) wait() error {
	c.waitOnce.Do(func() { c.waitErr = c.cmd.Wait() })
	return c.waitErr
}

func (c *childClients) alone(_ context.Context, k, n int) (RouteStat, error) {
	a, err := c.ask(clientRequest{Op: "alone", Route: k, N: n})
	if a.Stat == nil {
		return RouteStat{}, err
	}
	return *a.Stat, err
}

func (c *childClients) loaded(context.Context) ([][]float64, ingestTotals, float64, error) {
	a, err := c.ask(clientRequest{Op: "loaded"})
	return a.Lat, a.Ingest, a.Secs, err
}

func (c *childClients) ingestAlone(context.Context) (ingestTotals, float64, error) {
	a, err := c.ask(clientRequest{Op: "ingestAlone"})
	return a.Ingest, a.Secs, err
}

func (c *childClients) count(context.Context) (int64, error) {
	a, err := c.ask(clientRequest{Op: "count"})
	return a.Count, err
}

func (c *childClients) getAll(_ context.Context, ids []string) (int, error) {
	a, err := c.ask(clientRequest{Op: "getAll", IDs: ids})
	return a.Gets, err
}

func (c *childClients) genSeconds() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *childClients) failures() (int64, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed, c.first
}

func (c *childClients) pid() int { return c.cmd.Process.Pid }

// close ends the child's input, which ends it, and waits for it (childGrace at most, then it
// is killed).
func (c *childClients) close() error {
	c.in.Close()
	t := time.AfterFunc(childGrace, func() { c.cmd.Process.Kill() })
	defer t.Stop()
	if err := c.wait(); err != nil {
		return fmt.Errorf("load clients' process: %w", err)
	}
	return nil
}
