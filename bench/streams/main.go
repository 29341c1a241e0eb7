// Command streams measures `authlake consume` as it runs in production, as separate processes
// against a Kafka broker (franz-go's kfake, in this process, on loopback); not run in CI.
//
//	go build -o /tmp/authlake ./cmd/authlake
//	go run ./bench/streams --authlake /tmp/authlake scaleout --events 300000 --procs 1,2
//	go run ./bench/streams --authlake /tmp/authlake kill9 --rounds 100
//
// scaleout produces the sign-ins as diagnostic-settings messages to a topic of --partitions
// partitions, then for each count in --procs starts that many consumer processes in one group
// (each its own data directory and --instance-id, as docs/scale-out.md deploys them), and times
// from their start until their Prometheus metrics account for every record; it reports the rate
// and each process's share, and audits that the stores together hold every sign-in once.
//
// kill9 runs one consumer at a time over one data directory and SIGKILLs it while it commits,
// at its k-th commit (k drawn from --seed: placed by counting commits, not by time; the commit
// in flight is lost with the process, the worst moment), for --rounds rounds, then drains the
// topic with a last consumer and audits: every produced sign-in stored exactly once.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine/consume/kafkatest"
)

const topic = "insights-logs-signinlogs"

func main() {
	bin := flag.String("authlake", "", "the authlake binary")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: streams --authlake BIN scaleout|kill9 [flags]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *bin == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var err error
	switch args := flag.Args()[1:]; flag.Arg(0) {
	case "scaleout":
		err = scaleout(*bin, args)
	case "kill9":
		err = kill9(*bin, args)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "streams:", err)
		os.Exit(1)
	}
}

// cluster starts kfake with one topic and produces events generated sign-ins to it, per records
// to a message, and returns it with the number of sign-ins.
func cluster(events, partitions, per int, seed uint64) (*kfake.Cluster, int64, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), topic))
	if err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	n, _, err := gen.Write(&buf, gen.Config{Events: events, Seed: seed, Days: 3, End: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		c.Close()
		return nil, 0, err
	}
	start := time.Now()
	msgs := kafkatest.Messages(bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")), per, "SignInLogs")
	if err := kafkatest.Produce(c.ListenAddrs(), topic, msgs); err != nil {
		c.Close()
		return nil, 0, err
	}
	fmt.Printf("produced %d sign-ins (%.1f MB) as %d messages to %d partitions in %s\n", n, float64(buf.Len())/1e6, len(msgs), partitions, time.Since(start).Round(time.Millisecond))
	return c, n, nil
}

// consumer is one `authlake consume` process.
type consumer struct {
	cmd     *exec.Cmd
	metrics string // host:port of its Prometheus metrics
	stderr  bytes.Buffer
	exited  chan error
}

func startConsumer(bin, data, brokers, instance string, env []string, extra ...string) (*consumer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &consumer{metrics: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan error, 1)}
	args := append([]string{"consume", "--data", data, "--brokers", brokers, "--topic", topic, "--group", "authlake",
		"--instance-id", instance, "--retention", "0", "--metrics-addr", c.metrics}, extra...)
	c.cmd = exec.Command(bin, args...)
	c.cmd.Env = append(append(os.Environ(), "AUTHLAKE_NOW=2026-11-20T12:00:00Z"), env...)
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.exited <- c.cmd.Wait() }()
	return c, nil
}

// counts reads a consumer's records accounted for (accepted, updated, duplicate, rejected), its
// messages and its lag from its metrics; ok is false while it does not answer yet.
func (c *consumer) counts() (records, messages, lag int64, ok bool) {
	resp, err := http.Get("http://" + c.metrics + "/metrics")
	if err != nil {
		return 0, 0, 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, found := strings.Cut(sc.Text(), " ")
		v, err := strconv.ParseFloat(value, 64)
		if !found || err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(name, "authlake_consume_records_total{"):
			records += int64(v)
		case name == "authlake_consume_messages_total":
			messages = int64(v)
		case name == "authlake_consume_lag_messages":
			lag = int64(v)
		}
	}
	return records, messages, lag, true
}

func (c *consumer) stop() error {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.exited:
		return err
	case <-time.After(time.Minute):
		c.cmd.Process.Kill()
		return fmt.Errorf("did not stop within a minute of SIGTERM\n%s", c.stderr.String())
	}
}

func scaleout(bin string, args []string) error {
	fs := flag.NewFlagSet("scaleout", flag.ExitOnError)
	events := fs.Int("events", 300_000, "sign-ins")
	partitions := fs.Int("partitions", 4, "topic partitions")
	per := fs.Int("per-message", 100, "records per diagnostic-settings message")
	procs := fs.String("procs", "1,2", "consumer process counts to run, one after the other")
	cores := fs.Int("cores", 0, "GOMAXPROCS of each consumer (0: all cores); 1 makes each process stand for a one-core node")
	seed := fs.Uint64("seed", 1, "seed of the events")
	fs.Parse(args)
	c, n, err := cluster(*events, *partitions, *per, *seed)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, p := range strings.Split(*procs, ",") {
		k, err := strconv.Atoi(p)
		if err != nil || k < 1 {
			return fmt.Errorf("--procs %q", *procs)
		}
		root, err := os.MkdirTemp("", "authlake-scaleout-")
		if err != nil {
			return err
		}
		if err := scaleoutRun(bin, c, root, k, n, *cores); err != nil {
			return err
		}
		os.RemoveAll(root)
	}
	return nil
}

// scaleoutRun times k consumers in a fresh group over the whole topic.
func scaleoutRun(bin string, c *kfake.Cluster, root string, k int, n int64, cores int) error {
	group := fmt.Sprintf("scaleout-%d", k)
	var env []string
	if cores > 0 {
		env = []string{fmt.Sprint("GOMAXPROCS=", cores)}
	}
	var cs []*consumer
	start := time.Now()
	for i := range k {
		cn, err := startConsumer(bin, filepath.Join(root, fmt.Sprint("node-", i+1)), c.ListenAddrs()[0], fmt.Sprint("node-", i+1), env, "--group", group)
		if err != nil {
			return err
		}

		defer cn.cmd.Process.Kill()
		cs = append(cs, cn)
	}
	var first time.Duration
	deadline := time.Now().Add(30 * time.Minute)
	for {
		var total, msgs int64
		for _, cn := range cs {
			r, m, _, _ := cn.counts()
			total, msgs = total+r, msgs+m
			select {
			case err := <-cn.exited:
				return fmt.Errorf("a consumer exited: %v\n%s", err, cn.stderr.String())
			default:
			}
		}
		if first == 0 && msgs > 0 {
			first = time.Since(start)
		}
		if total >= n {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d consumers: %d of %d records after 30 minutes", k, total, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	el := time.Since(start)
	var shares []string
	for _, cn := range cs {
		r, _, _, _ := cn.counts()
		shares = append(shares, fmt.Sprint(r))
	}
	for _, cn := range cs {
		if err := cn.stop(); err != nil {
			return err
		}
	}
	stored := int64(0)
	for i := range k {
		s, err := storedEvents(bin, filepath.Join(root, fmt.Sprint("node-", i+1)))
		if err != nil {
			return err
		}
		stored += s
	}
	fmt.Printf("%d consumer process(es): %d sign-ins in %s (first message after %s): %.0f events/s; per process %s; stored %d (%s)\n",
		k, n, el.Round(time.Millisecond), first.Round(time.Millisecond), float64(n)/el.Seconds(), strings.Join(shares, " + "), stored,
		map[bool]string{true: "each once", false: "MISMATCH"}[stored == n])
	if stored != n {
		return fmt.Errorf("stored %d sign-ins of %d", stored, n)
	}
	return nil
}

// storedEvents is what `authlake stats` counts in a data directory.
func storedEvents(bin, data string) (int64, error) {
	out, err := exec.Command(bin, "stats", "--data", data, "--json").Output()
	if err != nil {
		return 0, fmt.Errorf("stats %s: %w", data, err)
	}
	var st struct{ Events int64 }
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, err
	}
	return st.Events, nil
}

func kill9(bin string, args []string) error {
	fs := flag.NewFlagSet("kill9", flag.ExitOnError)
	events := fs.Int("events", 40_000, "sign-ins")
	partitions := fs.Int("partitions", 3, "topic partitions")
	per := fs.Int("per-message", 20, "records per diagnostic-settings message")
	rounds := fs.Int("rounds", 100, "kill -9 rounds")
	maxCommits := fs.Int("max-commits", 4, "a round kills the consumer at its 1st to this many-th commit")
	maxPoll := fs.Int("max-poll", 4, "the consumer's --max-poll (messages per poll, so commits come often)")
	seed := fs.Uint64("seed", 1, "seed of the events and the kill points")
	fs.Parse(args)
	c, n, err := cluster(*events, *partitions, *per, *seed)
	if err != nil {
		return err
	}
	defer c.Close()
	root, err := os.MkdirTemp("", "authlake-kill9-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	data := filepath.Join(root, "data")
	rng := rand.New(rand.NewPCG(*seed, 9))
	brokers := c.ListenAddrs()[0]
	start := time.Now()
	for round := 1; round <= *rounds; round++ {
		at := 1 + rng.IntN(*maxCommits)
		var mu sync.Mutex
		commits := 0
		var cn *consumer
		killed := make(chan struct{})
		// Handling the commit drops this function from the cluster: one kill per round.
		c.ControlKey(kmsg.OffsetCommit.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
			mu.Lock()
			defer mu.Unlock()
			if cn == nil {
				return nil, nil, false
			}
			if commits++; commits < at {
				return nil, nil, false
			}
			close(killed) // before the kill: an exit seen from here on is this kill
			cn.cmd.Process.Signal(syscall.SIGKILL)
			return nil, errors.New("killed"), true
		})
		mu.Lock()
		cn, err = startConsumer(bin, data, brokers, "node-1", nil, "--max-poll", fmt.Sprint(*maxPoll))
		mu.Unlock()
		if err != nil {
			return err
		}
		select {
		case err := <-cn.exited:
			select {
			case <-killed: // closed before the kill: this exit is the kill
			default:
				return fmt.Errorf("round %d: the consumer exited by itself (%v)\n%s", round, err, cn.stderr.String())
			}
		case <-time.After(2 * time.Minute):
			cn.cmd.Process.Kill()
			return fmt.Errorf("round %d: no commit within two minutes\n%s", round, cn.stderr.String())
		}
		if round%10 == 0 {
			s, _ := storedEvents(bin, data)
			fmt.Printf("round %d: killed at commit %d; %d of %d sign-ins stored so far (%s)\n", round, at, s, n, time.Since(start).Round(time.Second))
		}
	}
	// Drain: a last consumer runs until it is caught up, then stops cleanly.
	cn, err := startConsumer(bin, data, brokers, "node-1", nil)
	if err != nil {
		return err
	}
	defer cn.cmd.Process.Kill()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		stored, err := storedEvents(bin, data) // a read-only open beside the consumer
		_, msgs, lag, ok := cn.counts()
		if err == nil && ok && stored >= n && lag == 0 && msgs > 0 {
			break
		}
		select {
		case err := <-cn.exited:
			return fmt.Errorf("draining: the consumer exited (%v)\n%s", err, cn.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("draining: %d of %d stored after 10 minutes (lag %d)\n%s", stored, n, lag, cn.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := cn.stop(); err != nil {
		return err
	}
	stored, err := storedEvents(bin, data)
	if err != nil {
		return err
	}
	ids, err := distinctIDs(bin, data)
	if err != nil {
		return err
	}
	fmt.Printf("%d kill -9 rounds in %s: %d sign-ins produced, %d stored, %d distinct ids: %d lost, %d duplicated\n",
		*rounds, time.Since(start).Round(time.Second), n, stored, ids, n-ids, stored-ids)
	if stored != n || ids != n {
		return errors.New("audit failed")
	}
	return nil
}

// distinctIDs exports every tenant of data and counts distinct sign-in ids (per tenant).
func distinctIDs(bin, data string) (int64, error) {
	out, err := exec.Command(bin, "stats", "--data", data, "--json").Output()
	if err != nil {
		return 0, err
	}
	var st struct{ Tenants []struct{ Tenant string } }
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, err
	}
	var total int64
	for _, t := range st.Tenants {
		lines, err := exec.Command(bin, "export", "--data", data, "--tenant", t.Tenant).Output()
		if err != nil {
			return 0, fmt.Errorf("export %s: %w", t.Tenant, err)
		}
		seen := map[string]bool{}
		for _, l := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
			var ev struct{ ID string }
			if len(l) > 0 && json.Unmarshal(l, &ev) == nil {
				seen[ev.ID] = true
			}
		}
		total += int64(len(seen))
	}
	return total, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
