package identityprotection

import (
	"testing"
	"time"
)

// TestLearningReported: a run that raises nothing must be able to say whether that is because
// users are still being learned. One user with 12 sign-ins is learned; one with a single
// sign-in is learning until 14 days after it; the tenant's warm-up ends 7 days after its first
// sign-in.
func TestLearningReported(t *testing.T) {
	d := NewDetector("t1", Thresholds{}, nil, nil)
	start := fixedNow().Add(-20 * 24 * time.Hour)
	history(d, "learned", start)
	newbie := fixedNow().Add(-2 * 24 * time.Hour)
	d.Observe(craftEvent("n1", "newbie", newbie))
	l := d.Learning(fixedNow())
	if l.Users != 1 || l.Learned != 1 || !l.UsersUntil.Equal(newbie.Add(14*24*time.Hour)) || !l.WarmupUntil.Equal(start.Add(7*24*time.Hour)) {
		t.Fatalf("learning %+v", l)
	}
	if l := d.Learning(newbie.Add(15 * 24 * time.Hour)); l.Users != 0 || l.Learned != 2 {
		t.Fatalf("after the learning period: %+v", l)
	}
}
