package server

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authlake/authlake/query"
	"github.com/authlake/authlake/query/syntax"
)

// queryCosts remembers what list queries of each kind have cost, so that a query can say when
// it is due before it runs (admission.go): a query's kind is its tenant, its route and its
// request with the literals taken out (queryClass), so that one user's sign-ins predicts
// another's, and a flagged list predicts nothing about an unfiltered one. The estimate is a
// moving average of the time kind's queries held their slot; a kind not seen yet is expected
// to cost what queries cost on average. (An average that followed a kind's faster runs more
// than its slower ones, the slower having waited for CPU beside others, did worse in every
// trial: bench/results/load-10m-2026-12-07b.md.)
type queryCosts struct {
	mu    sync.Mutex
	kinds map[string]float64 // seconds
	all   float64            // every kind's, seconds (0: none yet)
}

const (
	// costKinds bounds the kinds remembered; past it the map starts again (a bound on memory
	// for a server whose clients send ever new filter shapes, not an eviction policy).
	costKinds = 4096
	// costWeight is the weight of the newest observation in the moving averages.
	costWeight = 0.25
	// defaultQueryCost is expected of a query before any has run.
	defaultQueryCost = 10 * time.Millisecond
)

func (c *queryCosts) expected(kind string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.kinds[kind]; ok {
		return time.Duration(v * float64(time.Second))
	}
	if c.all > 0 {
		return time.Duration(c.all * float64(time.Second))
	}
	return defaultQueryCost
}

func (c *queryCosts) observe(kind string, d time.Duration) {
	v := d.Seconds()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kinds == nil || len(c.kinds) >= costKinds {
		c.kinds = map[string]float64{}
	}
	if old, ok := c.kinds[kind]; ok {
		c.kinds[kind] = towards(old, v)
	} else {
		c.kinds[kind] = v
	}
	if c.all == 0 {
		c.all = v
	} else {
		c.all = towards(c.all, v)
	}
}

// towards moves the estimate est towards the observation v.
func towards(est, v float64) float64 { return est + costWeight*(v-est) }

// queryClass is the kind of a list query for queryCosts: tenant, route and the request's
// shape (syntax.Shape of its filter and $apply; page size, projection, order, count).
func queryClass(tenant, op string, req query.Request) string {
	var b strings.Builder
	b.WriteString(tenant)
	b.WriteByte(0)
	b.WriteString(op)
	b.WriteByte(0)
	b.WriteString(syntax.Shape(req.Filter))
	b.WriteByte(0)
	b.WriteString(syntax.Shape(req.Apply))
	b.WriteByte(0)
	b.WriteString(req.OrderBy)
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(req.Top))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(len(req.Select)))
	if req.Count {
		b.WriteString("+count")
	}
	if req.CountOnly {
		b.WriteString("+countonly")
	}
	return b.String()
}
