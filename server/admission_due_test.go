package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authlake/authlake/query"
)

// A query of a kind known to be cheap, queued after one known to be dear, is admitted first;
// the dear one follows. Counted by the slots' queue and the order of admission, never by time.
func TestCheapQueriesAreAdmittedFirst(t *testing.T) {
	a := newAdmission(1, prometheus.NewRegistry())
	a.costs.observe("dear", time.Second)
	a.costs.observe("cheap", time.Millisecond)
	if err := a.slots.Acquire(context.Background()); err != nil { // a running query
		t.Fatal(err)
	}
	admitted := make(chan string, 2)
	queue := func(kind string, waiting int) {
		go func() {
			_, release, err := a.acquire(context.Background(), kind)
			if err != nil {
				t.Error(err)
				return
			}
			admitted <- kind
			release()
		}()
		deadline := time.Now().Add(10 * time.Second)
		for a.slots.Stats().Waiting != waiting { // in the slots' queue, not just counted
			if time.Now().After(deadline) {
				t.Fatalf("%s never queued", kind)
			}
			time.Sleep(time.Millisecond)
		}
	}
	queue("dear", 1)
	queue("cheap", 2)
	a.slots.Release()
	for _, want := range []string{"cheap", "dear"} {
		select {
		case got := <-admitted:
			if got != want {
				t.Fatalf("admitted %s, want %s first", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never admitted", want)
		}
	}
}

// Queries that differ only in their literals are one kind; a different filter, route, tenant
// or page is another.
func TestQueryClass(t *testing.T) {
	user := func(upn string) query.Request {
		return query.Request{Filter: "userPrincipalName eq '" + upn + "' and createdDateTime ge 2026-11-01T00:00:00Z and status/errorCode eq 50126", Top: 1000}
	}
	a := queryClass("t1", "list", user("ann@contoso.com"))
	if b := queryClass("t1", "list", user("o''brien@contoso.com")); a != b {
		t.Fatalf("two users' lists are different kinds:\n%q\n%q", a, b)
	}
	for name, other := range map[string]string{
		"tenant": queryClass("t2", "list", user("ann@contoso.com")),
		"route":  queryClass("t1", "apply", user("ann@contoso.com")),
		"filter": queryClass("t1", "list", query.Request{Filter: "flaggedForReview eq true", Top: 1000}),
		"top":    queryClass("t1", "list", query.Request{Filter: user("ann@contoso.com").Filter, Top: 10}),
	} {
		if other == a {
			t.Errorf("another %s is the same kind: %q", name, a)
		}
	}
	if strings.Contains(a, "ann") || strings.Contains(a, "50126") || strings.Contains(a, "2026") {
		t.Fatalf("a literal is part of the kind: %q", a)
	}
	if !strings.Contains(a, "userPrincipalName eq '' and createdDateTime ge 0 and status/errorCode eq 0") {
		t.Fatalf("kind %q", a)
	}
}

// A kind's estimate is a moving average of its runs, a quarter of the way to each new one; a
// kind not seen yet is expected to cost what every kind costs on average.
func TestQueryCostIsAMovingAverage(t *testing.T) {
	var c queryCosts
	if got := c.expected("k"); got != defaultQueryCost {
		t.Fatalf("nothing seen: %v, want %v", got, defaultQueryCost)
	}
	near := func(what string, got, want time.Duration) {
		t.Helper()
		if d := got - want; d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
	c.observe("k", 10*time.Millisecond)
	near("one run", c.expected("k"), 10*time.Millisecond)
	c.observe("k", 110*time.Millisecond)
	near("after a slow run", c.expected("k"), 35*time.Millisecond)
	c.observe("k", 15*time.Millisecond)
	near("after a fast run", c.expected("k"), 30*time.Millisecond)
	near("an unseen kind", c.expected("unseen"), 30*time.Millisecond)
}
