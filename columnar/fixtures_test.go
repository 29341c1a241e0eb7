package columnar

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The package's tests build their sign-ins from the Graph sample through encoding/json, and a
// dozen of them need the same 10,000-row segments: building those was most of the package's
// test time (and ~7x that under the race detector). fixtures keeps each built once per test
// binary: the generated events (copied out, since tests edit them in place) and segment files
// in one directory that TestMain removes. The files are shared, so a test that damages a
// segment copies it first; TestMain fails the run if a fixture changed (as root, CI ignores the
// files' read-only mode).
var fixtures struct {
	dir      string
	mu       sync.Mutex
	events   map[uint64]*eventSequence // by seed
	segments map[string]*fixtureSegment
}

type fixtureSegment struct {
	once sync.Once
	path string
	sum  [32]byte // the file's SHA-256 when built
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "columnar-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fixtures.dir = dir
	code := m.Run()
	for name, f := range fixtures.segments {
		if f.path == "" {
			continue
		}
		if sum, err := fileSum(f.path); err != nil || sum != f.sum {
			fmt.Fprintf(os.Stderr, "fixture %s changed during the tests (%v): a test wrote into a shared segment\n", name, err)
			code = 1
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// cachedEvents returns a copy of the first n events of seed's sequence. Each seed's sequence
// is one generator that extends as tests ask for more: event i does not depend on n.
func cachedEvents(t testing.TB, n int, seed uint64) []string {
	t.Helper()
	fixtures.mu.Lock()
	defer fixtures.mu.Unlock()
	g := fixtures.events[seed]
	if g == nil {
		g = &eventSequence{sample: newSampleFields(t, readSample(t)), rng: rand.New(rand.NewPCG(seed, 7))}
		if fixtures.events == nil {
			fixtures.events = map[uint64]*eventSequence{}
		}
		fixtures.events[seed] = g
	}
	for i := len(g.events); i < n; i++ {
		g.events = append(g.events, testEvent(t, g.sample, g.rng, i))
	}
	return append([]string(nil), g.events[:n]...)
}

type eventSequence struct {
	sample *sampleFields
	rng    *rand.Rand
	events []string
}

// readSample reads the Graph sample the tests' events are made from.
func readSample(t testing.TB) []byte {
	t.Helper()
	sample, err := os.ReadFile("testdata/graph_beta_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	return sample
}

// sharedSegment returns the path of the read-only segment named name, which build writes into
// the directory it is given the first time any test asks for it.
func sharedSegment(t testing.TB, name string, build func(dir string) string) string {
	t.Helper()
	fixtures.mu.Lock()
	if fixtures.segments == nil {
		fixtures.segments = map[string]*fixtureSegment{}
	}
	f := fixtures.segments[name]
	if f == nil {
		f = &fixtureSegment{}
		fixtures.segments[name] = f
	}
	fixtures.mu.Unlock()
	f.once.Do(func() {
		dir := filepath.Join(fixtures.dir, name)
		if f.err = os.Mkdir(dir, 0o755); f.err != nil {
			return
		}
		f.path = build(dir)
		if f.sum, f.err = fileSum(f.path); f.err == nil {
			f.err = os.Chmod(f.path, 0o444)
		}
	})
	if f.err != nil || f.path == "" {
		t.Fatalf("fixture %s: %v", name, f.err)
	}
	return f.path
}

func fileSum(path string) ([32]byte, error) {
	raw, err := os.ReadFile(path)
	return sha256.Sum256(raw), err
}
