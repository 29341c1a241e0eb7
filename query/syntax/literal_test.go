package syntax

import (
	"math"
	"testing"
	"time"
)

// TestLiteralValues checks the decoded values, not only the printed form.
func TestLiteralValues(t *testing.T) {
	f := func(src string, check func(*Literal) bool) {
		t.Helper()
		e, err := ParseFilter(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		lit, ok := e.(*Literal)
		if !ok {
			t.Fatalf("%q: got %T, want *Literal", src, e)
		}
		if !check(lit) {
			t.Errorf("%q: unexpected literal %+v", src, lit)
		}
	}
	f(`'o''brien'`, func(l *Literal) bool { return l.Kind == LitString && l.Str == "o'brien" })
	f(`''''`, func(l *Literal) bool { return l.Str == "'" })
	f(`-9223372036854775808`, func(l *Literal) bool { return l.Kind == LitInt && l.Int == math.MinInt64 })
	f(`9223372036854775808`, func(l *Literal) bool { return l.Kind == LitDecimal && l.Decimal == "9223372036854775808.0" })
	f(`007.500`, func(l *Literal) bool { return l.Kind == LitDecimal && l.Decimal == "7.5" && l.Float == 7.5 })
	f(`1.5e3`, func(l *Literal) bool { return l.Kind == LitDouble && l.Float == 1500 })
	f(`-INF`, func(l *Literal) bool { return l.Kind == LitDouble && math.IsInf(l.Float, -1) })
	f(`NaN`, func(l *Literal) bool { return l.Kind == LitDouble && math.IsNaN(l.Float) })
	f(`True`, func(l *Literal) bool { return l.Kind == LitBool && l.Bool })
	f(`null`, func(l *Literal) bool { return l.Kind == LitNull })
	f(`2021-10-01T12:00:00.25+02:00`, func(l *Literal) bool {
		return l.Kind == LitDateTimeOffset && l.OffsetMinutes == 120 &&
			l.Time.Equal(time.Date(2021, 10, 1, 10, 0, 0, 250e6, time.UTC)) && l.Time.Location() == time.UTC
	})
	f(`2021-10-01T00:00:00-00:30`, func(l *Literal) bool { return l.OffsetMinutes == -30 && l.Time.Hour() == 0 && l.Time.Minute() == 30 })
	f(`2024-02-29`, func(l *Literal) bool {
		return l.Kind == LitDate && l.Time.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC))
	})
	f(`07:59:59.999`, func(l *Literal) bool {
		return l.Kind == LitTimeOfDay && l.Duration == 7*time.Hour+59*time.Minute+59*time.Second+999*time.Millisecond
	})
	f(`duration'P1DT2H3M4.5S'`, func(l *Literal) bool {
		return l.Kind == LitDuration && l.Duration == 26*time.Hour+3*time.Minute+4500*time.Millisecond
	})
	f(`duration'-PT1M'`, func(l *Literal) bool { return l.Duration == -time.Minute })
	f(`DE8BC8B5-D9F9-48B1-A8AD-B748DA725064`, func(l *Literal) bool {
		return l.Kind == LitGUID && l.GUID[0] == 0xde && l.GUID[15] == 0x64
	})
	f(`microsoft.graph.riskLevel'medium'`, func(l *Literal) bool {
		return l.Kind == LitEnum && l.EnumType == "microsoft.graph.riskLevel" && len(l.EnumMembers) == 1 && l.EnumMembers[0] == "medium"
	})
	f(`Ns.Flags'a,b,4'`, func(l *Literal) bool { return len(l.EnumMembers) == 3 && l.EnumMembers[2] == "4" })
	f(`binary'AQID'`, func(l *Literal) bool { return l.Kind == LitBinary && string(l.Bytes) == "\x01\x02\x03" })
	f(`geometry'SRID=0;Point(1 2)'`, func(l *Literal) bool { return l.Kind == LitGeometry && l.Str == "SRID=0;Point(1 2)" })
}

// TestPositions checks that nodes and errors carry 1-based line:column and
// byte offsets, including after a newline and after multi-byte runes.
func TestPositions(t *testing.T) {
	e, err := ParseFilter("a eq 1 and\n  \u00e9t\u00e9 eq 'x'")
	if err != nil {
		t.Fatal(err)
	}
	and := e.(*BinaryExpr)
	if got := and.At; got != (Pos{Offset: 7, Line: 1, Column: 8}) {
		t.Errorf("and at %+v", got)
	}
	eq := and.Right.(*BinaryExpr)
	if got := eq.Left.Pos(); got != (Pos{Offset: 13, Line: 2, Column: 3}) {
		t.Errorf("été at %+v", got)
	}
	if got := eq.At; got.Line != 2 || got.Column != 7 || got.Offset != 19 {
		t.Errorf("eq at %+v (columns count runes)", got)
	}
	_, err = ParseFilter("a eq 1 and\n  b eq")
	se, ok := err.(*Error)
	if !ok || se.Pos.Line != 2 || se.Pos.Column != 7 || se.Pos.Offset != 17 {
		t.Fatalf("error %v at %+v", err, se)
	}
	if se.Error() != "syntax error at 2:7: expected expression after 'eq', found end of input" {
		t.Errorf("message %q", se.Error())
	}
}

func TestLimits(t *testing.T) {
	deep := ""
	for range MaxDepth + 1 {
		deep += "("
	}
	if _, err := ParseFilter(deep + "a"); err == nil || err.(*Error).Msg != "expression nested too deeply (limit 256)" {
		t.Errorf("deep parens: %v", err)
	}
	nots := ""
	for range 100000 / 4 {
		nots += "not "
	}
	if _, err := ParseFilter(nots + "a"); err == nil {
		t.Error("input over MaxInputLen accepted")
	}
	ok := ""
	for range MaxDepth - 1 {
		ok += "("
	}
	ok += "a"
	for range MaxDepth - 1 {
		ok += ")"
	}
	if _, err := ParseFilter(ok); err != nil {
		t.Errorf("depth %d rejected: %v", MaxDepth-1, err)
	}
	// Long flat chains are loops, not recursion, and stay accepted.
	chain := "a"
	for range 5000 {
		chain += " or a"
	}
	if _, err := ParseFilter(chain); err != nil {
		t.Errorf("long chain: %v", err)
	}
}

// TestDurationRoundTrip: every duration prints as a literal that parses back to itself, the
// extremes included (parsing went through a float, which rounded large values and made
// math.MinInt64 unprintable).
func TestDurationRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, 1, -1, time.Second, -time.Minute, 26*time.Hour + 3*time.Minute + 4500*time.Millisecond,
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 9007199254740993, 123456789123456789} {
		checkDurationRoundTrip(t, d)
	}
	for _, bad := range []string{"P", "PT", "P1.5D", "PT1.S", "PT.5S", "P1H", "PT1D", "PT1S2M", "P106751DT23H47M16.854775808S"} {
		if _, msg := parseDuration(bad); msg == "" {
			t.Errorf("%q parsed", bad)
		}
	}
	if d, msg := parseDuration("-P106751DT23H47M16.854775808S"); msg != "" || d != math.MinInt64 {
		t.Errorf("the smallest duration: %v %q", d, msg)
	}
	if d, msg := parseDuration("PT0.0000000015S"); msg != "" || d != 2 {
		t.Errorf("a tenth digit rounds: %v %q", d, msg)
	}
}

func checkDurationRoundTrip(t *testing.T, d time.Duration) {
	t.Helper()
	s := formatDuration(d)
	got, msg := parseDuration(s)
	if msg != "" || got != d {
		t.Fatalf("%d prints as %q, which parses as %d (%s)", int64(d), s, int64(got), msg)
	}
}

func FuzzDurationRoundTrip(f *testing.F) {
	for _, d := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 86400e9 + 1} {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, d int64) { checkDurationRoundTrip(t, time.Duration(d)) })
}
