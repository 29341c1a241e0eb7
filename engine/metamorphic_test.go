package engine

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/authlake/authlake/internal/vfs"
)

// TestMetamorphic runs random sequences of the engine's operations (ingest of new sign-ins,
// re-emissions with changed content and repeats, flushes, compactions, closing and reopening,
// and power losses: the database is reopened from what a crashable file system kept, only what
// was synced, with a random part of the unsynced writes torn or not)
// against a model of what they mean (docs/versions.md: a sign-in is its id; a record equal to a
// stored version is a duplicate, a different one the newest version) and checks, after every
// ingest, that the engine counted each record as the model does, and at every checkpoint, that
// an export shows exactly the model's newest versions. A bounded number of steps per seed keeps
// it in CI; a failure names the seed and step to replay.
func TestMetamorphic(t *testing.T) {
	seeds, steps := uint64(4), 120
	if raceEnabled {
		seeds = 1
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed-", seed), func(t *testing.T) { metamorphic(t, seed, steps) })
	}
}

// variants of one sign-in: the same event as risk evaluation moves on.
var emissionRisks = []string{"none", "atRisk", "remediated"}

func metamorphic(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 77))
	base := makeEvents(200, seed, 3)
	variant := make([][]string, len(base)) // variant[i][v]: event i with emissionRisks[v], canonical bytes
	ids := make([]string, len(base))
	for i, l := range base {
		var m map[string]any
		json.Unmarshal([]byte(l), &m)
		ids[i] = m["id"].(string)
		for _, rs := range emissionRisks {
			m["riskState"] = rs
			b, _ := json.Marshal(m)
			variant[i] = append(variant[i], string(b))
		}
	}
	// The model: per sign-in, the variants stored and the newest.
	type state struct {
		seen   map[int]bool
		newest int
	}
	model := map[int]*state{}
	const dir = "/data"
	mem := vfs.NewCrashableMem()
	opts := testOptions()
	opts.FS, opts.NoSync = mem, false
	opts.Logger = slog.New(slog.DiscardHandler)
	powerLosses := 0
	opts.MemtableRows = 1 << 20 // flushes are the sequence's, not the engine's own
	db := mustOpen(t, dir, opts)
	defer func() { db.Close() }()
	var trail []string
	check := func(step int) {
		t.Helper()
		got := map[string]string{}
		if _, err := db.Export(tenantA, func(line []byte) error {
			var m struct{ ID, RiskState string }
			if err := json.Unmarshal(line, &m); err != nil {
				return err
			}
			if _, dup := got[m.ID]; dup {
				return fmt.Errorf("%s exported twice", m.ID)
			}
			got[m.ID] = m.RiskState
			return nil
		}); err != nil {
			t.Fatalf("seed %d step %d: export: %v\n%v", seed, step, err, trail)
		}
		if len(got) != len(model) {
			t.Fatalf("seed %d step %d: %d sign-ins exported, the model has %d\n%v", seed, step, len(got), len(model), trail)
		}
		for i, st := range model {
			if got[ids[i]] != emissionRisks[st.newest] {
				t.Fatalf("seed %d step %d: %s shows %q, the model's newest is %q\n%v", seed, step, ids[i], got[ids[i]], emissionRisks[st.newest], trail)
			}
		}
	}
	for step := 0; step < steps; step++ {
		switch op := rng.IntN(11); {
		case op < 6:
			n := 1 + rng.IntN(40)
			var recs []Record
			var want IngestResult
			for range n {
				i, v := rng.IntN(len(base)), rng.IntN(len(emissionRisks))
				recs = append(recs, Record{Raw: []byte(variant[i][v])})
				st := model[i]
				switch {
				case st == nil:
					model[i] = &state{seen: map[int]bool{v: true}, newest: v}
					want.Accepted++
				case st.seen[v]:
					want.Duplicates++
				default:
					st.seen[v], st.newest = true, v
					want.Updated++
				}
			}
			trail = append(trail, fmt.Sprintf("ingest %d", n))
			res, err := db.Ingest(recs, IngestOptions{})
			if err != nil {
				t.Fatalf("seed %d step %d: ingest: %v", seed, step, err)
			}
			if res.Accepted != want.Accepted || res.Updated != want.Updated || res.Duplicates != want.Duplicates || len(res.Rejected) != 0 {
				t.Fatalf("seed %d step %d: counted %d accepted, %d updated, %d duplicates, %d rejected; the model %d, %d, %d, 0\n%v",
					seed, step, res.Accepted, res.Updated, res.Duplicates, len(res.Rejected), want.Accepted, want.Updated, want.Duplicates, trail)
			}
		case op == 6:
			trail = append(trail, "flush")
			if err := db.Flush(); err != nil {
				t.Fatalf("seed %d step %d: flush: %v", seed, step, err)
			}
		case op == 7:
			trail = append(trail, "compact")
			if err := db.CompactAll(); err != nil {
				t.Fatalf("seed %d step %d: compact: %v", seed, step, err)
			}
		case op == 8:
			trail = append(trail, "reopen")
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db = mustOpen(t, dir, opts)
		case op == 9:
			// Every acknowledged ingest survives: the model does not change.
			var torn *rand.Rand
			if rng.IntN(2) == 0 {
				torn = rng
			}
			trail = append(trail, fmt.Sprintf("power loss (torn %t)", torn != nil))
			powerLosses++
			crashed := mem.Crash(torn)
			db.Close() // the old process's last writes go to the file system the power loss left behind
			mem = crashed
			opts.FS = mem
			db = mustOpen(t, dir, opts)
		default:
			check(step)
		}
	}
	check(steps)
	t.Logf("seed %d: %d steps, %d of them power losses", seed, steps, powerLosses)
}
