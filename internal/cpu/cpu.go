// Package cpu is authlake's one pool of CPU tokens for heavy work. On a small machine a
// request's latency is set by Go's run queue, not by its own work: scan workers, ingest
// decoding, flush encodes and merges are many more runnable goroutines than Ps, and a cheap
// request (a sign-in by id, a list that runs no query) waits behind them in 10 ms preemption
// slices (bench/results/load-1m.md). Heavy work therefore takes a token for each unit of
// bounded size (a block scanned, a few hundred records decoded, a segment written) and gives
// it back after, so that at most Size heavy goroutines are runnable at once and every one of
// them passes through the pool within about a millisecond or two.
//
// Interactive work (cheap by nature) registers while it runs. While any is registered, heavy
// work is lent at most Size-1 tokens (never fewer than one, so heavy work always progresses),
// which keeps one P free for the interactive request within about one unit of heavy work.
//
// Work waiting for a token is served earliest due first (due.go), so that a cheap query is not
// queued behind expensive ones.
//
// A nil *Pool, or one made with New(0), is disabled: Acquire never waits.
package cpu

import (
	"context"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Pool hands out tokens to heavy work.
type Pool struct {
	size int // <= 0: disabled

	mu          sync.Mutex
	inUse       int
	interactive int
	waiters     waitQueue // earliest due first (due.go)
	seq         uint64    // waiters so far: orders equal dues by arrival

	acquired atomic.Int64 // tokens handed out, ever (tests and metrics)
}

type waiter struct {
	ready   chan struct{} // closed when the token is granted
	granted bool          // under mu
	due     int64         // sinceStart (dueOf)
	seq     uint64
	index   int // in waiters
}

// New returns a pool of size tokens; size <= 0 returns a disabled pool.
func New(size int) *Pool { return &Pool{size: size} }

var def atomic.Pointer[Pool]

func init() { def.Store(New(runtime.GOMAXPROCS(0))) }

// Default returns the process-wide pool (GOMAXPROCS tokens unless replaced).
func Default() *Pool { return def.Load() }

// SetDefault replaces the process-wide pool (New(0) disables it) and returns the previous
// one. Work already holding tokens gives them back to the pool it took them from.
func SetDefault(p *Pool) *Pool {
	if p == nil {
		p = New(0)
	}
	return def.Swap(p)
}

// Size is the number of tokens (0 when disabled).
func (p *Pool) Size() int {
	if p == nil || p.size <= 0 {
		return 0
	}
	return p.size
}

func (p *Pool) enabled() bool { return p != nil && p.size > 0 }

// limit is what heavy work may hold now. Called with mu held.
func (p *Pool) limit() int {
	if p.interactive > 0 {
		return max(1, p.size-1)
	}
	return p.size
}

// Acquire waits for a token, or for ctx. Waiting work is served earliest due first (ctx's
// WithDue; due now without one). Every successful Acquire must be matched by one Release.
func (p *Pool) Acquire(ctx context.Context) error {
	if !p.enabled() {
		return nil
	}
	p.mu.Lock()
	if len(p.waiters) == 0 && p.inUse < p.limit() {
		p.inUse++
		p.mu.Unlock()
		p.acquired.Add(1)
		return nil
	}
	p.seq++
	w := &waiter{ready: make(chan struct{}), due: dueOf(ctx), seq: p.seq}
	p.waiters.add(w)
	p.mu.Unlock()
	select {
	case <-w.ready:
		p.acquired.Add(1)
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	if w.granted {
		// Granted as ctx ended: the token is ours, give it back.
		p.mu.Unlock()
		p.Release()
		return ctx.Err()
	}
	p.waiters.remove(w)
	p.mu.Unlock()
	return ctx.Err()
}

// TryAcquire takes a token if heavy work may hold one more now and none is waited for; it
// never waits. A true result must be matched by one Release. Work that could use more cores
// than the one it holds (reads made side by side) asks with it, so that it widens only into
// what the pool has spare and never past Size. A disabled pool always says yes.
func (p *Pool) TryAcquire() bool {
	if !p.enabled() {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiters) > 0 || p.inUse >= p.limit() {
		return false
	}
	p.inUse++
	p.acquired.Add(1)
	return true
}

// Release gives a token back and passes through Go's run queue.
func (p *Pool) Release() {
	if !p.enabled() {
		return
	}
	p.release()
	// Passing through the pool must also pass through the run queue: an Acquire that finds a
	// free token returns at once, so without this a scan worker kept its P from block to block
	// until the 10 ms preemption, and a runnable request (not yet registered: it has to run to
	// register) waited for it.
	gosched()
}

// ReleasePaced is Release for a worker that takes and gives back tokens unit after unit (a
// scan's blocks): it passes through the run queue when the worker last did yieldEvery ago or
// more, by the worker's own pace. Each Gosched wakes a thread for an idle P that then finds
// nothing to do, and yielding at every release was a sixth of a warm aggregation's CPU (Q8:
// 160 blocks in 1.6 ms); paced by worker, not by pool, so that every worker still yields
// within yieldEvery plus a unit (one pace for the pool let a worker go 20 ms without).
func (p *Pool) ReleasePaced(pace *Pace) {
	if !p.enabled() {
		return
	}
	p.release()
	if now := sinceStart(); !pace.set || now-pace.yielded >= int64(yieldEvery) {
		pace.yielded, pace.set = now, true
		gosched()
	}
}

// Pace is one worker's record of its last pass through the run queue (ReleasePaced). The zero
// Pace has never passed. A Pace belongs to one goroutine.
type Pace struct {
	yielded int64 // sinceStart
	set     bool
}

func (p *Pool) release() {
	p.mu.Lock()
	if p.inUse <= 0 {
		p.mu.Unlock()
		panic("BUG: cpu.Pool.Release without Acquire")
	}
	p.inUse--
	p.grantLocked()
	p.mu.Unlock()
}

// yieldEvery is how often, at most, a paced worker passes through the run queue: well under the
// scheduler's 10 ms preemption, and a few blocks of scan work.
const yieldEvery = 500 * time.Microsecond

// gosched and sinceStart are variables so that a test can count yields on its own clock.
var (
	gosched = runtime.Gosched
	start   = time.Now()
	// sinceStart is the monotonic time since the process started. It only paces yields, which
	// no outcome depends on.
	sinceStart = func() int64 { return int64(time.Since(start)) }
)

// Yield gives the token back and takes one again, letting waiting work (and the interactive
// P) in between units of heavy work. On error the token is not held.
func (p *Pool) Yield(ctx context.Context) error {
	if !p.enabled() {
		return nil
	}
	p.Release()
	return p.Acquire(ctx)
}

func (p *Pool) grantLocked() {
	for len(p.waiters) > 0 && p.inUse < p.limit() {
		w := p.waiters.next()
		w.granted = true
		p.inUse++
		close(w.ready)
	}
}

// Stats is a snapshot of the pool.
type Stats struct {
	Size        int   // tokens (0: disabled)
	InUse       int   // tokens held by heavy work
	Waiting     int   // heavy work waiting for a token
	Interactive int   // interactive work registered
	Acquired    int64 // tokens handed out since the pool was made
}

// Stats returns a snapshot of the pool.
func (p *Pool) Stats() Stats {
	if !p.enabled() {
		return Stats{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Size: p.size, InUse: p.inUse, Waiting: len(p.waiters), Interactive: p.interactive, Acquired: p.acquired.Load()}
}

type ctxKey struct{}

// reg is one interactive registration.
type reg struct {
	p    *Pool
	once sync.Once
	live atomic.Bool
}

func (r *reg) done() {
	r.once.Do(func() {
		r.live.Store(false)
		r.p.mu.Lock()
		r.p.interactive--
		r.p.grantLocked()
		r.p.mu.Unlock()
	})
}

// Interactive registers interactive work until done is called (more calls do nothing). The
// returned context marks the work: IsInteractive reports it until done, and heavy-work code
// that sees it runs without taking tokens (it is the work the free P is kept for).
func (p *Pool) Interactive(ctx context.Context) (_ context.Context, done func()) {
	if !p.enabled() {
		return ctx, func() {}
	}
	r := &reg{p: p}
	r.live.Store(true)
	p.mu.Lock()
	p.interactive++
	p.mu.Unlock()
	return context.WithValue(ctx, ctxKey{}, r), r.done
}

// IsInteractive reports whether ctx carries an interactive registration not yet done.
func IsInteractive(ctx context.Context) bool {
	r, _ := ctx.Value(ctxKey{}).(*reg)
	return r != nil && r.live.Load()
}

// EndInteractive ends ctx's interactive registration, if any: a request that turns out to be
// heavy (a list query once admitted, an ingest) calls it before its heavy work.
func EndInteractive(ctx context.Context) {
	if r, _ := ctx.Value(ctxKey{}).(*reg); r != nil {
		r.done()
	}
}

// ReserveNetworkP sizes the process for serving requests beside heavy work that takes p's
// tokens: GOMAXPROCS goes to one above p's size. Go's scheduler polls the network from a P
// that finds nothing else to run; while every P has runnable goroutines, only sysmon polls it,
// every 10 ms (golang/go#51651, "dialing a localhost TCP port costs about 10ms"). The pool's
// promise of a free P for interactive work could not be kept for a request not yet read: it
// has to run to register. The extra P is one that work holding tokens never fills: it idles in
// the network poller and runs a request as it arrives, the kernel sharing the cores between its
// thread and the others (work without tokens, a commit or a segment encoder, may still take it
// for a while). Beside 8 list clients and 2 ingest clients on 2 cores, an empty risky-users list
// went from 15-17 ms at p50 to 7-8 ms, a sign-in by id from 14 to 8 ms, with as many requests
// answered (bench load, 300K events).
//
// It does nothing when the GOMAXPROCS environment variable is set (the operator chose), when p
// is disabled, or when GOMAXPROCS is already above p's size. restore puts GOMAXPROCS back.
func ReserveNetworkP(p *Pool) (restore func()) {
	n := runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") != "" || !p.enabled() || n > p.size {
		return func() {}
	}
	runtime.GOMAXPROCS(p.size + 1)
	return func() { runtime.GOMAXPROCS(n) }
}
