package main

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/authlake/authlake/engine"
)

// byteSize is a flag holding a number of bytes, written as GOMEMLIMIT is: an integer with an
// optional unit B, KiB, MiB, GiB or TiB ("512MiB", "2GiB", "1073741824").
type byteSize int64

var byteUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}

func parseByteSize(s string) (int64, error) {
	num, shift := s, uint(0)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("%q is not a size: want a whole number of bytes with an optional unit B, KiB, MiB, GiB or TiB (e.g. 512MiB)", s)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n << shift, nil
}

func formatByteSize(n int64) string {
	for _, u := range byteUnits {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

func (b *byteSize) String() string { return formatByteSize(int64(*b)) }
func (b *byteSize) Type() string   { return "size" }
func (b *byteSize) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	if n < engine.MinMemoryLimit {
		return fmt.Errorf("%s is below the smallest memory limit, %s", s, formatByteSize(engine.MinMemoryLimit))
	}
	*b = byteSize(n)
	return nil
}

// memoryLimit is --memory-limit: every command that opens a database gives it to the engine
// (openDB), and the Go runtime's soft limit is set from it (applyMemoryLimit).
var memoryLimit = byteSize(engine.DefaultMemoryLimit)

// applyMemoryLimit sets the Go runtime's soft memory limit to the budget, so that garbage does
// not pile up above what the engine holds; the engine's own shares (docs/memory.md) leave an
// eighth of it for queries and the runtime. It is capped at 70% of the container's (or else the
// machine's) memory: a budget larger than the machine makes the collector work harder near
// the machine's limit instead of the kernel killing the process. GOMEMLIMIT in the environment
// still wins.
func applyMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(memoryLimit)
	if machine, err := memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)(); err == nil && machine > 0 {
		limit = min(limit, int64(float64(machine)*0.7))
	}
	debug.SetMemoryLimit(limit)
}
