package identityprotection

import "time"

// Learning says how much of the tenant the profile detectors (unfamiliar properties, atypical
// travel, new country) could not judge yet at t: users whose profile is still being learned
// (fewer than LearningSignIns sign-ins and less than LearningPeriod since their first), the
// latest time one of them finishes by the calendar, and when the tenant's own warm-up ends.
// An admin who sees "0 new detections" needs this to know whether that means "nothing risky"
// or "nothing judged yet".
type Learning struct {
	Users          int       // users still learning at t
	Learned        int       // users whose profile is learned
	UsersUntil     time.Time // when the last of them is learned by time alone (zero: none learning)
	WarmupUntil    time.Time // end of the tenant's warm-up (zero: no sign-in seen)
	SignInsToLearn int
	LearningPeriod time.Duration
}

// Learning reports the detector's learning state at t.
func (d *Detector) Learning(t time.Time) Learning {
	l := Learning{SignInsToLearn: d.th.LearningSignIns, LearningPeriod: d.th.LearningPeriod}
	if !d.first.IsZero() {
		l.WarmupUntil = d.first.Add(d.th.TenantWarmup)
	}
	for _, p := range d.users {
		if p.count > 0 && p.learned(t, &d.th) {
			l.Learned++
			continue
		}
		if p.count == 0 {
			continue
		}
		l.Users++
		if until := p.first.Add(d.th.LearningPeriod); until.After(l.UsersUntil) {
			l.UsersUntil = until
		}
	}
	return l
}
