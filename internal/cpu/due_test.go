package cpu

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Waiters are granted earliest due first; work without a due is due when it asks, and equal
// dues go in arrival order. A waiter that gives up leaves the order of the others intact.
func TestTokensGoEarliestDueFirst(t *testing.T) {
	p := New(1)
	if err := p.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	type ask struct {
		name string
		ctx  context.Context
	}
	cancelled, cancel := context.WithCancel(WithDue(context.Background(), base.Add(-time.Hour)))
	asks := []ask{
		{"late", WithDue(context.Background(), base.Add(3*time.Hour))},
		{"soon", WithDue(context.Background(), base.Add(time.Hour))},
		{"now-1", context.Background()}, // due as it asks: before "soon"
		{"gone", cancelled},             // earliest of all, but gives up
		{"soon-2", WithDue(context.Background(), base.Add(time.Hour))},
		{"now-2", context.Background()},
		{"middle", WithDue(context.Background(), base.Add(2*time.Hour))},
	}
	done := make(chan string, len(asks))
	errs := map[string]<-chan error{}
	for i, a := range asks {
		ch := make(chan error, 1)
		errs[a.name] = ch
		go func() {
			err := p.Acquire(a.ctx)
			if err == nil {
				done <- a.name
			}
			ch <- err
		}()
		waitFor(t, fmt.Sprintf("%s to queue", a.name), func() bool { return p.Stats().Waiting == i+1 })
	}
	cancel()
	select {
	case err := <-errs["gone"]:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled waiter: %v", err)
		}
	case <-time.After(bound):
		t.Fatal("the cancelled waiter did not return")
	}
	want := []string{"now-1", "now-2", "soon", "soon-2", "middle", "late"}
	for _, w := range want {
		p.Release() // the holder's token, then each granted waiter's in turn
		select {
		case got := <-done:
			if got != w {
				t.Fatalf("granted %s, want %s (order %v)", got, w, want)
			}
		case <-time.After(bound):
			t.Fatalf("no grant after a release, waiting for %s", w)
		}
	}
	p.Release()
	if s := p.Stats(); s.InUse != 0 || s.Waiting != 0 {
		t.Fatalf("stats %+v at the end", s)
	}
}
