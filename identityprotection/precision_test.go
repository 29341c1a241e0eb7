package identityprotection

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// PR is one row of the precision/recall table.
type PR struct {
	Type           string
	TP, FP, FN     int
	Precision, Rec float64
}

func score(dets []Detection, labels map[string]bool, types []string) []PR {
	byType := map[string]*PR{}
	for _, t := range types {
		byType[t] = &PR{Type: t}
	}
	found := map[string]bool{}
	for _, d := range dets {
		p := byType[d.RiskEventType]
		if p == nil {
			continue
		}
		k := labelKey(d.RiskEventType, d.RequestID, d.UserID)
		if labels[k] {
			if !found[k] {
				p.TP++
			}
			found[k] = true
		} else {
			p.FP++
		}
	}
	for k := range labels {
		if !found[k] {
			byType[strings.SplitN(k, "|", 2)[0]].FN++
		}
	}
	var out []PR
	for _, t := range types {
		p := byType[t]
		p.Precision, p.Rec = ratio(p.TP, p.TP+p.FP), ratio(p.TP, p.TP+p.FN)
		out = append(out, *p)
	}
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func labelKey(typ string, req *string, user string) string {
	if req != nil {
		return typ + "|" + *req
	}
	return typ + "|user:" + user
}

func TestPrecisionRecall(t *testing.T) {
	l := newLabelled(t, 60000, 7, 6)
	labels := map[string]bool{}
	for _, lb := range l.out.Labels {
		var req *string
		if lb.RequestID != "" {
			req = &lb.RequestID
		}
		labels[labelKey(lb.Type, req, lb.UserID)] = true
	}
	res := l.run(t, JobOptions{})
	l.importLeaks(t)
	table := score(l.store.Detections(l.tenant), labels, DetectorTypes)
	var b strings.Builder
	fmt.Fprintf(&b, "events=%d attacks=%d\n", res.Events, len(l.out.Events))
	for _, p := range table {
		fmt.Fprintf(&b, "%-32s TP=%3d FP=%3d FN=%3d precision=%.3f recall=%.3f\n", p.Type, p.TP, p.FP, p.FN, p.Precision, p.Rec)
	}
	t.Log("\n" + b.String())
	for _, p := range table {
		if p.TP == 0 || p.Precision < 0.95 || p.Rec < 0.95 {
			t.Errorf("%s: precision %.3f recall %.3f (TP %d FP %d FN %d), want >= 0.95 each", p.Type, p.Precision, p.Rec, p.TP, p.FP, p.FN)
		}
	}
	if t.Failed() {
		var fps []string
		for _, d := range l.store.Detections(l.tenant) {
			if !labels[labelKey(d.RiskEventType, d.RequestID, d.UserID)] {
				fps = append(fps, d.RiskEventType+" "+d.UserPrincipalName+" "+d.IPAddress+" "+d.Location.City+" "+d.AdditionalInfo)
			}
		}
		sort.Strings(fps)
		for i, f := range fps {
			if i < 20 {
				t.Log("FP:", f)
			}
		}
	}
}
