package columnar

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// sameRow says how two decoded rows differ ("" when they do not): every cell's state and value,
// and the extras byte for byte.
func sameRow(a, b *Row) string {
	for i := range a.vals {
		x, y := &a.vals[i], &b.vals[i]
		if x.state != y.state {
			return fmt.Sprintf("column %d: state %d, want %d", i, x.state, y.state)
		}
		if x.state == stateValue && (!bytes.Equal(x.b, y.b) || x.i != y.i || math.Float64bits(x.f) != math.Float64bits(y.f)) {
			return fmt.Sprintf("column %d: %q/%d/%v, want %q/%d/%v", i, x.b, x.i, x.f, y.b, y.i, y.f)
		}
	}
	if !bytes.Equal(a.extras, b.extras) {
		return fmt.Sprintf("extras %q, want %q", a.extras, b.extras)
	}
	return ""
}

// checkFastDecode decodes raw the fast way and the general way: what the fast path accepts the
// general one must accept as the same row. It reports whether the fast path took the record.
func checkFastDecode(t testing.TB, fast, general *Decoder, raw []byte) bool {
	t.Helper()
	var fix []byte
	raw = sanitize(raw, &fix)
	ra, rb := NewRow(SignIns), NewRow(SignIns)
	if fast.decodeFast(raw, ra, nil) != nil {
		return false
	}
	if err := general.decodeGeneral(raw, rb); err != nil {
		t.Fatalf("the fast path accepted what the general one refuses (%v):\n%s", err, raw)
	}
	if diff := sameRow(ra, rb); diff != "" {
		t.Fatalf("the fast path read %s:\n%s", diff, raw)
	}
	return true
}

// fastDecodeCorpus is records of every shape the decoder tests know.
func fastDecodeCorpus(t testing.TB) [][]byte {
	var out [][]byte
	for _, r := range append(testEvents(t, 300, 7), rowViewRecords(t)...) {
		out = append(out, []byte(r))
	}
	return out
}

// TestFastDecodeMatchesGeneral: every corpus record, and 40,000 damaged copies (whitespace,
// escapes, quotes, digits, letters and brackets put in, bytes taken out), decode the fast way
// either to the row the general way decodes or not at all; and the corpus's compact records
// take the fast path.
func TestFastDecodeMatchesGeneral(t *testing.T) {
	fast, general := NewDecoder(SignIns), NewDecoder(SignIns)
	corpus := fastDecodeCorpus(t)
	took := 0
	for _, r := range corpus {
		if checkFastDecode(t, fast, general, r) {
			took++
		}
	}
	if took < len(corpus)*3/4 {
		t.Errorf("the fast path took %d of %d records", took, len(corpus))
	}
	rng := rand.New(rand.NewPCG(11, 12))
	damagedTook := 0
	inserts := []string{" ", "\t", "\\", `\"`, `\u00e9`, `"`, "0", "9", "-", ".", "e", "1e400", "x", "{", "}", "[", "]", ",", ":", "null", "true", "\x01", "é", "\xff"}
	for range 40_000 {
		r := bytes.Clone(corpus[rng.IntN(len(corpus))])
		for range 1 + rng.IntN(3) {
			at := rng.IntN(len(r))
			switch rng.IntN(3) {
			case 0:
				r = append(r[:at:at], append([]byte(inserts[rng.IntN(len(inserts))]), r[at:]...)...)
			case 1:
				r = append(r[:at:at], r[min(len(r), at+1+rng.IntN(4)):]...)
			default:
				r[at] = inserts[rng.IntN(len(inserts))][0]
			}
		}
		if checkFastDecode(t, fast, general, r) {
			damagedTook++
		}
	}
	t.Logf("the fast path took %d of %d records and %d of 40,000 damaged ones", took, len(corpus), damagedTook)
	if damagedTook < 4_000 {
		t.Errorf("the fast path took %d of 40,000 damaged records: too few to compare", damagedTook)
	}
}

// FuzzFastDecode: whatever record the fast path decodes, the general path decodes to the same
// row.
func FuzzFastDecode(f *testing.F) {
	for _, r := range fastDecodeCorpus(f)[:20] {
		f.Add(r)
	}
	fast, general := NewDecoder(SignIns), NewDecoder(SignIns)
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkFastDecode(t, fast, general, raw)
	})
}

// TestPropertyOrderIsOnlyAPrediction: the decoder predicts each property from the order the
// last records had; records of the same content with their properties in other orders, in
// turn, decode to the same rows, the fast way and the general way.
func TestPropertyOrderIsOnlyAPrediction(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dec := NewDecoder(SignIns)
	for _, r := range testEvents(t, 40, 5) {
		want := NewRow(SignIns)
		if err := NewDecoder(SignIns).Decode([]byte(r), want); err != nil {
			t.Fatal(err)
		}
		v, err := fastjson.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := v.Object()
		var members []string
		o.Visit(func(k []byte, v *fastjson.Value) {
			members = append(members, strconv.Quote(string(k))+":"+string(v.MarshalTo(nil)))
		})
		for range 3 {
			rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
			shuffled := []byte("{" + strings.Join(members, ",") + "}")
			got := NewRow(SignIns)
			if err := dec.Decode(shuffled, got); err != nil {
				t.Fatal(err)
			}
			if diff := sameRowAnyOrder(t, got, want); diff != "" {
				t.Fatalf("shuffled: %s", diff)
			}
			if err := dec.decodeGeneral(shuffled, got); err != nil {
				t.Fatal(err)
			}
			if diff := sameRowAnyOrder(t, got, want); diff != "" {
				t.Fatalf("shuffled, the general way: %s", diff)
			}
		}
	}
}

// sameRowAnyOrder is sameRow with the extras compared as a set: they are kept in the order the
// record had its members.
func sameRowAnyOrder(t *testing.T, a, b *Row) string {
	sorted := func(r *Row) []byte {
		es, err := DecodeExtras(r.extras, nil)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(es, func(x, y ExtraEntry) int { return strings.Compare(x.Path, y.Path) })
		var out []byte
		for _, e := range es {
			out = appendExtra(out, e.Kind, e.Path, e.Value)
		}
		return out
	}
	ea, eb := a.extras, b.extras
	a.extras, b.extras = sorted(a), sorted(b)
	defer func() { a.extras, b.extras = ea, eb }()
	return sameRow(a, b)
}

// TestPredictedKeysAreTheNames: the fast path compares a predicted property's or member's key()
// with the record's bytes instead of reading the name, so each key must be its name quoted,
// then a colon.
func TestPredictedKeysAreTheNames(t *testing.T) {
	var check func(o *Object)
	check = func(o *Object) {
		for i := range o.Members {
			m := &o.Members[i]
			if got, want := string(m.key()), `"`+m.Name+`":`; got != want {
				t.Errorf("member %s/%s: key %q, want %q", o.Name, m.Name, got, want)
			}
			if m.Object != nil {
				check(m.Object)
			}
		}
	}
	for i := range SignIns.Properties {
		p := &SignIns.Properties[i]
		if got, want := string(p.key()), `"`+p.Name+`":`; got != want {
			t.Errorf("property %s: key %q, want %q", p.Name, got, want)
		}
		if p.Object != nil {
			check(p.Object)
		}
	}
}
