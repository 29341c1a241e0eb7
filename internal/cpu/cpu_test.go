package cpu

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bound is how long a test waits for something that must happen before it fails loudly;
// nothing is asserted after a sleep.
const bound = 10 * time.Second

// acquireAsync starts an Acquire and returns the channel its result arrives on.
func acquireAsync(p *Pool, ctx context.Context) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- p.Acquire(ctx) }()
	return ch
}

// waitFor polls cond (no timing assertion: it only bounds a wait that must end).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", bound, what)
		}
		time.Sleep(time.Millisecond)
	}
}

func mustGet(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(bound):
		t.Fatalf("%s: no token after %v", what, bound)
	}
}

func TestInteractiveReducesHeavyTokens(t *testing.T) {
	p := New(3)
	ctx := context.Background()
	for range 2 {
		if err := p.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, done := p.Interactive(ctx)
	// Two tokens held, an interactive request registered: heavy work may hold 3-1 = 2, so a
	// third Acquire waits.
	third := acquireAsync(p, ctx)
	waitFor(t, "the third Acquire to queue", func() bool { return p.Stats().Waiting == 1 })
	if s := p.Stats(); s.InUse != 2 || s.Interactive != 1 {
		t.Fatalf("stats %+v, want 2 in use, 1 interactive", s)
	}
	// A release does not let it in either: the limit is 2 while the request runs.
	p.Release()
	mustGet(t, third, "third acquire after a release") // 1 held + 1 = 2
	fourth := acquireAsync(p, ctx)
	waitFor(t, "the fourth Acquire to queue", func() bool { return p.Stats().Waiting == 1 })
	done()
	mustGet(t, fourth, "fourth acquire once the interactive request is done")
	if s := p.Stats(); s.InUse != 3 || s.Waiting != 0 || s.Interactive != 0 {
		t.Fatalf("stats %+v, want 3 in use, none waiting", s)
	}
	done() // a second call does nothing
	if s := p.Stats(); s.Interactive != 0 {
		t.Fatalf("interactive %d after a second done", s.Interactive)
	}
}

func TestHeavyProgressesWithOneToken(t *testing.T) {
	p := New(1) // Size-1 would be 0: heavy work keeps one token
	ctx := context.Background()
	_, done1 := p.Interactive(ctx)
	_, done2 := p.Interactive(ctx)
	defer done1()
	defer done2()
	for i := range 100 {
		mustGet(t, acquireAsync(p, ctx), "acquire with interactive work registered")
		if s := p.Stats(); s.InUse != 1 {
			t.Fatalf("round %d: %d in use", i, s.InUse)
		}
		p.Release()
	}
	p2 := New(2)
	_, done3 := p2.Interactive(ctx)
	defer done3()
	if err := p2.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	second := acquireAsync(p2, ctx)
	waitFor(t, "the second Acquire to queue", func() bool { return p2.Stats().Waiting == 1 })
	p2.Release()
	mustGet(t, second, "second acquire after the release")
	p2.Release()
}

func TestAcquireCancel(t *testing.T) {
	p := New(1)
	if err := p.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := acquireAsync(p, ctx)
	waitFor(t, "the Acquire to queue", func() bool { return p.Stats().Waiting == 1 })
	cancel()
	select {
	case err := <-ch:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled Acquire returned %v", err)
		}
	case <-time.After(bound):
		t.Fatal("a canceled Acquire did not return")
	}
	if s := p.Stats(); s.Waiting != 0 || s.InUse != 1 {
		t.Fatalf("stats %+v after cancel, want 1 in use, none waiting", s)
	}
	p.Release()
	if s := p.Stats(); s.InUse != 0 {
		t.Fatalf("%d in use after the release: the canceled waiter kept a token", s.InUse)
	}
	mustGet(t, acquireAsync(p, context.Background()), "acquire after cancel")
	p.Release()
}

func TestNeverMoreThanSize(t *testing.T) {
	const size, workers, rounds = 3, 16, 300
	p := New(size)
	var held, peak atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range rounds {
				if w%4 == 0 && i%3 == 0 {
					// Some goroutines are interactive requests now and then.
					_, done := p.Interactive(ctx)
					done()
					continue
				}
				if err := p.Acquire(ctx); err != nil {
					t.Error(err)
					return
				}
				take := func() {
					n := held.Add(1)
					for {
						m := peak.Load()
						if n <= m || peak.CompareAndSwap(m, n) {
							break
						}
					}
					if n > size {
						t.Errorf("%d tokens held, pool size %d", n, size)
					}
				}
				take()
				if i%7 == 0 {
					held.Add(-1) // Yield gives the token back before taking one again
					if err := p.Yield(ctx); err != nil {
						t.Error(err)
						return
					}
					take()
				}
				held.Add(-1)
				p.Release()
			}
		}()
	}
	wg.Wait()
	if s := p.Stats(); s.InUse != 0 || s.Waiting != 0 || s.Interactive != 0 {
		t.Fatalf("stats %+v at the end", s)
	}
	if peak.Load() > size {
		t.Fatalf("peak %d > size %d", peak.Load(), size)
	}
}

func TestDisabledAndInteractiveContext(t *testing.T) {
	for _, p := range []*Pool{nil, New(0)} {
		ctx := context.Background()
		for range 10 {
			if err := p.Acquire(ctx); err != nil {
				t.Fatal(err)
			}
		}
		p.Release()
		if p.Size() != 0 || p.Stats() != (Stats{}) {
			t.Fatalf("disabled pool: size %d stats %+v", p.Size(), p.Stats())
		}
	}
	p := New(2)
	ctx, done := p.Interactive(context.Background())
	if !IsInteractive(ctx) || IsInteractive(context.Background()) {
		t.Fatal("IsInteractive does not follow the registration")
	}
	EndInteractive(ctx)
	if IsInteractive(ctx) || p.Stats().Interactive != 0 {
		t.Fatalf("after EndInteractive: interactive %v, stats %+v", IsInteractive(ctx), p.Stats())
	}
	done() // after EndInteractive: nothing more
	if p.Stats().Interactive != 0 {
		t.Fatal("done after EndInteractive unregistered twice")
	}
}

func TestReleaseWithoutAcquirePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Release without Acquire did not panic")
		}
	}()
	New(1).Release()
}

// TryAcquire takes only what Acquire would grant at once: never past the limit (Size, or
// Size-1 while interactive work runs), never ahead of a waiter; a disabled pool always grants.
func TestTryAcquire(t *testing.T) {
	p := New(3)
	ctx := context.Background()
	for i := range 2 {
		if !p.TryAcquire() {
			t.Fatalf("a free pool refused token %d", i+1)
		}
	}
	_, done := p.Interactive(ctx)
	if p.TryAcquire() {
		t.Fatal("granted the token kept for interactive work")
	}
	done()
	if !p.TryAcquire() {
		t.Fatal("refused the last token once the interactive work ended")
	}
	if p.TryAcquire() {
		t.Fatal("granted a token past Size")
	}
	waiting := acquireAsync(p, ctx)
	waitFor(t, "a waiter", func() bool { return p.Stats().Waiting == 1 })
	p.Release() // the waiter's, not TryAcquire's
	mustGet(t, waiting, "the waiter")
	if p.TryAcquire() {
		t.Fatal("granted a token past Size after a waiter took the freed one")
	}
	if got := p.Stats(); got.InUse != 3 || got.Acquired != 4 {
		t.Fatalf("stats %+v, want 3 in use, 4 acquired", got)
	}
	if !New(0).TryAcquire() {
		t.Fatal("a disabled pool refused")
	}
}

// ReleasePaced passes through the run queue at a worker's first release and then once its own
// last pass is yieldEvery old, whatever other workers do: two workers releasing in turn on a
// clock that moves less than yieldEvery between releases each still yield on their own pace.
// Release yields every time.
func TestReleasePacedPacesEachWorker(t *testing.T) {
	var now int64
	yields := 0
	savedNow, savedYield := sinceStart, gosched
	sinceStart, gosched = func() int64 { return now }, func() { yields++ }
	defer func() { sinceStart, gosched = savedNow, savedYield }()
	p := New(2)
	var a, b Pace
	release := func(pace *Pace) int {
		if err := p.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
		before := yields
		p.ReleasePaced(pace)
		return yields - before
	}
	if release(&a) != 1 || release(&b) != 1 {
		t.Fatal("a worker's first release did not yield")
	}
	step := int64(yieldEvery) / 4
	var ya, yb int
	for range 40 { // 40 steps of a quarter: each worker should yield 10 times, every 4th release
		now += step
		ya += release(&a)
		yb += release(&b)
	}
	if ya != 10 || yb != 10 {
		t.Fatalf("over 10 yieldEvery, worker a yielded %d times, b %d; want 10 each", ya, yb)
	}
	if err := p.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := yields
	p.Release()
	if yields != before+1 {
		t.Fatal("Release did not yield")
	}
}

// TestReserveNetworkP: the process gets one P more than the pool has tokens, put back by
// restore; an operator's GOMAXPROCS, a disabled pool and a pool smaller than GOMAXPROCS are
// left alone.
func TestReserveNetworkP(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	n := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(n)
	expect := func(when string, want int) {
		t.Helper()
		if got := runtime.GOMAXPROCS(0); got != want {
			t.Fatalf("GOMAXPROCS %d %s, want %d", got, when, want)
		}
	}
	restore := ReserveNetworkP(New(n))
	expect("while reserved", n+1)
	restore()
	expect("after restore", n)

	restore = ReserveNetworkP(New(n + 2))
	expect("for a pool of GOMAXPROCS+2 tokens", n+3)
	restore()

	for _, p := range []*Pool{nil, New(0)} {
		ReserveNetworkP(p)()
		expect("for a disabled pool", n)
	}
	if n > 1 {
		ReserveNetworkP(New(n - 1))()
		expect("for a pool smaller than GOMAXPROCS", n)
	}
	t.Setenv("GOMAXPROCS", strconv.Itoa(n))
	restore = ReserveNetworkP(New(n))
	expect("with the variable set", n)
	restore()
}
