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
// answers each on out, until in ends. cmd/authlake's hidden `bench load-clients` calls it.
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
			a.Err = err.Error()
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
}

// startChildClients starts argv as the clients' process and sends it the plan. The process
// ends with ctx.
func startChildClients(ctx context.Context, argv []string, p clientPlan, log io.Writer) (*childClients, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = logWriter(log)
	cmd.Env = os.Environ()
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

// ask sends one request and waits for its answer.
func (c *childClients) ask(req clientRequest) (clientAnswer, error) {
	var a clientAnswer
	if err := c.enc.Encode(req); err != nil {
		return a, fmt.Errorf("load clients' process: sending %s: %w", req.Op, err)
	}
	if err := c.dec.Decode(&a); err != nil {
		return a, fmt.Errorf("load clients' process: the answer to %s: %w", req.Op, err)
	}
	c.mu.Lock()
	c.gen, c.failed, c.first = a.GenSeconds, a.Failed, a.Failures
	c.mu.Unlock()
	if a.Err != "" {
		return a, errors.New(a.Err)
	}
	return a, nil
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

// close ends the child's input, which ends it, and waits for it.
func (c *childClients) close() error {
	c.in.Close()
	if err := c.cmd.Wait(); err != nil {
		return fmt.Errorf("load clients' process: %w", err)
	}
	return nil
}
