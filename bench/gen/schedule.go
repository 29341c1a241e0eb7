package gen

import (
	"math"
	"math/rand/v2"
)

// hourWeights is the relative sign-in rate per UTC hour: a blend of
// European and American working days, quiet at night.
var hourWeights = [24]float64{
	0.30, 0.24, 0.20, 0.20, 0.24, 0.36, 0.58, 0.86, 1.15, 1.35, 1.45, 1.45,
	1.40, 1.50, 1.65, 1.70, 1.60, 1.40, 1.10, 0.85, 0.65, 0.52, 0.42, 0.35,
}

// weekendFactor scales Saturday and Sunday.
const weekendFactor = 0.32

func rateWeight(abs int64) float64 {
	w := hourWeights[(abs/3600)%24]
	if wd := (floorDiv(abs, 86400) + 4) % 7; wd == 0 || wd == 6 { // 1970-01-01 was a Thursday
		w *= weekendFactor
	}
	return w
}

// schedule draws flow start times from a non-homogeneous Poisson process
// whose rate is piecewise constant per hour. Inverting the cumulative rate
// hour by hour yields sorted arrivals with one random draw each, so nothing
// needs sorting.
type schedule struct {
	start int64   // Unix seconds of Config.Start
	pos   float64 // seconds after start of the last arrival
	base  float64 // arrivals per second at weight 1
}

// scheduleEnd is where arrivals are scheduled to stop: a margin before end (the generator's
// "now") so that Poisson fluctuation (about 3 standard deviations of the flow count) and the
// minutes a flow's later steps take rarely carry an event past end, at most a tenth of the
// span and at least a quarter of an hour when the span allows.
func scheduleEnd(start, end int64, expectedFlows float64) int64 {
	span := float64(end - start)
	margin := 900 + 3*span/math.Sqrt(max(expectedFlows, 1))
	return end - int64(min(margin, span/10))
}

func newSchedule(start, end int64, expectedFlows float64) schedule {
	var total float64
	for t := start; t < end; {
		next := min((t/3600+1)*3600, end)
		total += rateWeight(t) * float64(next-t)
		t = next
	}
	return schedule{start: start, base: expectedFlows / total}
}

func (s *schedule) next(r *rand.Rand) int64 {
	e := r.ExpFloat64()
	for {
		abs := s.start + int64(s.pos)
		hourEnd := float64((abs/3600+1)*3600 - s.start)
		rate := s.base * rateWeight(abs)
		if capa := rate * (hourEnd - s.pos); e <= capa {
			s.pos += e / rate
			break
		} else {
			e -= capa
			s.pos = hourEnd
		}
	}
	return s.start + int64(s.pos)
}
