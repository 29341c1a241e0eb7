package cpu

import (
	"container/heap"
	"context"
	"time"
)

// Waiting work is granted tokens earliest due first. A request that knows what it is likely to
// cost says when it is due (WithDue: its arrival plus a multiple of its expected cost); work
// that does not (ingest, flushes, merges) is due when it asks. Served in arrival order
// instead, a 4 ms aggregation queued behind list queries of 60-100 ms each (8 query clients,
// 2 ingest clients, 10M events: p50 4 → 420 ms), while serving it first delays each of them
// by 4 ms. Earliest-due-first starves nothing: every due is finite, and work due when it
// asks is served before anything due later.

type dueKey struct{}

// WithDue returns ctx whose heavy work is due at due: its waits for a token are served before
// those of work due later.
func WithDue(ctx context.Context, due time.Time) context.Context {
	return context.WithValue(ctx, dueKey{}, int64(due.Sub(start)))
}

// dueOf is ctx's due on the pool's clock (sinceStart), or now when ctx carries none.
func dueOf(ctx context.Context) int64 {
	if d, ok := ctx.Value(dueKey{}).(int64); ok {
		return d
	}
	return sinceStart()
}

// waitQueue is a heap of waiters, earliest due first and, for equal dues, first come first.
type waitQueue []*waiter

func (q waitQueue) Len() int { return len(q) }
func (q waitQueue) Less(i, j int) bool {
	if q[i].due != q[j].due {
		return q[i].due < q[j].due
	}
	return q[i].seq < q[j].seq
}
func (q waitQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *waitQueue) Push(x any) {
	w := x.(*waiter)
	w.index = len(*q)
	*q = append(*q, w)
}
func (q *waitQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	w.index = -1
	return w
}

func (q *waitQueue) add(w *waiter)    { heap.Push(q, w) }
func (q *waitQueue) next() *waiter    { return heap.Pop(q).(*waiter) }
func (q *waitQueue) remove(w *waiter) { heap.Remove(q, w.index) }
