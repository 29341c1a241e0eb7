// Command soak is the kill -9 soak of a real server (not run in CI): round after round it starts
// `authlake serve` over one data directory, has concurrent clients post batches of generated
// sign-ins to POST /authlake/v1/ingest, and SIGKILLs the server after a random number of
// acknowledged batches (drawn from --seed: the kills are placed by counting acknowledgements,
// not by time). A batch whose request failed is sent again in a later round, as a client
// would retry. At the end the whole tenant is exported and audited: every acknowledged sign-in
// must be there exactly once, and no sign-in twice.
//
//	go build -o /tmp/authlake ./cmd/authlake
//	go run ./bench/soak --authlake /tmp/authlake --rounds 100
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/authlake/authlake/bench/gen"
)

type batch struct {
	body []byte
	ids  []string
}

func main() {
	bin := flag.String("authlake", "", "the authlake binary")
	rounds := flag.Int("rounds", 100, "kill -9 rounds")
	clients := flag.Int("clients", 4, "concurrent ingest clients")
	size := flag.Int("batch", 200, "sign-ins per request")
	maxAcks := flag.Int("max-acks", 12, "a round kills the server after 1 to this many acknowledged batches")
	seed := flag.Uint64("seed", 1, "seed of the events and of the kill points")
	duration := flag.Duration("duration", 0, "stop starting rounds after this long (0: run every round), then audit")
	dir := flag.String("dir", "", "data directory (default: a new temporary one, removed at the end)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "--authlake is required")
		os.Exit(2)
	}
	if err := run(*bin, *dir, *rounds, *clients, *size, *maxAcks, *seed, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(bin, dir string, rounds, clients, size, maxAcks int, seed uint64, duration time.Duration) (err error) {
	// Ctrl-C (or --duration) ends the soak after the current round, and the audit still runs.
	stopping := make(chan os.Signal, 1)
	signal.Notify(stopping, os.Interrupt)
	if dir == "" {
		d, err := os.MkdirTemp("", "soak")
		if err != nil {
			return err
		}
		// Removed after a clean audit; kept, and named, when the soak fails: it is the evidence.
		defer func() {
			if err == nil {
				os.RemoveAll(d)
			} else {
				fmt.Fprintln(os.Stderr, "soak: the data directory is kept for inspection:", d)
			}
		}()
		dir = d
	}
	data := filepath.Join(dir, "data")
	tenant := gen.DefaultTenant
	// Enough events for the worst case; a batch is taken from the stream when a client needs one.
	need := rounds*(maxAcks+clients)*size + size
	batches := make(chan batch, 4*clients)
	go produce(batches, need, size, seed)
	var retry []batch // sent, not acknowledged: sent again
	var retryMu sync.Mutex
	next := func() (batch, bool) {
		retryMu.Lock()
		if n := len(retry); n > 0 {
			b := retry[n-1]
			retry = retry[:n-1]
			retryMu.Unlock()
			return b, true
		}
		retryMu.Unlock()
		b, ok := <-batches
		return b, ok
	}
	acked := map[string]bool{}
	var ackedMu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	start := time.Now()
	token := ""
	done := 0
	for round := 1; round <= rounds; round++ {
		select {
		case <-stopping:
			rounds = round - 1
		default:
		}
		if duration > 0 && time.Since(start) > duration {
			rounds = round - 1
		}
		if round > rounds {
			break
		}
		done = round
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		args := []string{"serve", "--data", data, "--addr", addr, "--http", "--no-console-link", "--log-level", "error"}
		if round == 1 {
			args = append(args, "--retention", "0") // remembered in the data directory
		}
		srv := exec.Command(bin, args...)
		srv.Stderr = os.Stderr
		srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := srv.Start(); err != nil {
			return err
		}
		if token == "" {
			out, err := exec.Command(bin, "token", "--data", data, "--tenant", tenant, "--roles", "AuthLake.Ingest", "--ttl", "240h").Output()
			if err != nil {
				srv.Process.Kill()
				return fmt.Errorf("token: %w", err)
			}
			token = strings.TrimSpace(string(out))
		}
		base := "http://" + addr
		if err := waitReady(base, time.Minute); err != nil {
			srv.Process.Kill()
			return fmt.Errorf("round %d: %w", round, err)
		}
		killAt := int64(1 + rng.IntN(maxAcks))
		var acks atomic.Int64
		killed := make(chan struct{})
		var once sync.Once
		kill := func() {
			once.Do(func() {
				syscall.Kill(-srv.Process.Pid, syscall.SIGKILL)
				close(killed)
			})
		}
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 2 * time.Minute}
				for {
					select {
					case <-killed:
						return
					default:
					}
					b, ok := next()
					if !ok {
						return
					}
					if post(client, base, token, b.body) {
						ackedMu.Lock()
						for _, id := range b.ids {
							acked[id] = true
						}
						ackedMu.Unlock()
						if acks.Add(1) >= killAt {
							kill()
						}
						continue
					}
					retryMu.Lock()
					retry = append(retry, b)
					retryMu.Unlock()
				}
			}()
		}
		wg.Wait()
		kill()
		srv.Wait()
		if round%10 == 0 || round == rounds {
			fmt.Printf("round %d: %d sign-ins acknowledged so far\n", round, len(acked))
		}
	}
	elapsed := time.Since(start)
	// The audit: one more clean start and stop replays what the last kill left, then export.
	exported := filepath.Join(dir, "export.ndjson")
	if out, err := exec.Command(bin, "export", "--data", data, "--tenant", tenant, "-o", exported).CombinedOutput(); err != nil {
		return fmt.Errorf("export: %v\n%s", err, out)
	}
	seen, err := idCounts(exported)
	if err != nil {
		return err
	}
	lost, dup := 0, 0
	for id := range acked {
		if seen[id] == 0 {
			lost++
		}
	}
	for _, n := range seen {
		if n > 1 {
			dup++
		}
	}
	fmt.Printf("soak: %d kill -9 rounds in %s, %d clients × %d-event batches: %d sign-ins acknowledged, %d stored; lost %d, duplicated %d (revision %s)\n",
		done, elapsed.Round(time.Second), clients, size, len(acked), len(seen), lost, dup, revision(bin))
	if lost > 0 || dup > 0 {
		return errors.New("acknowledged events were lost or duplicated")
	}
	return nil
}

// produce cuts a generated stream into NDJSON request bodies with their ids.
func produce(out chan<- batch, events, size int, seed uint64) {
	defer close(out)
	pr, pw := io.Pipe()
	go func() {
		_, _, err := gen.Write(pw, gen.Config{Events: events, Seed: seed, Days: 2, End: gen.BenchEnd})
		pw.CloseWithError(err)
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var b batch
	for sc.Scan() {
		var row struct{ ID string }
		json.Unmarshal(sc.Bytes(), &row)
		b.body = append(append(b.body, sc.Bytes()...), '\n')
		b.ids = append(b.ids, row.ID)
		if len(b.ids) == size {
			out <- b
			b = batch{}
		}
	}
	if len(b.ids) > 0 {
		out <- b
	}
}

// post sends one batch; true only for a 200, the server's acknowledgement that it is durable.
func post(c *http.Client, base, token string, body []byte) bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/authlake/v1/ingest", bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func idCounts(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var row struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, err
		}
		seen[row.ID]++
	}
	return seen, sc.Err()
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls /readyz until it answers 200: bounded, and loud when it gives up.
func waitReady(base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the server was not ready within %s", limit)
}

// revision is the revision the authlake binary under test was built from (its embedded build
// information, as `go version -m` prints it), not this checkout's: the soak vouches for the binary.
func revision(bin string) string {
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		return "unknown"
	}
	rev, modified := "unknown", false
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "build" {
			k, v, _ := strings.Cut(f[1], "=")
			switch k {
			case "vcs.revision":
				rev = v[:min(len(v), 7)]
			case "vcs.modified":
				modified = v == "true"
			}
		}
	}
	if modified {
		rev += "+modified"
	}
	return rev
}
