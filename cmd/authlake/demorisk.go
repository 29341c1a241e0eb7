package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/authlake/authlake/bench/gen"
	"github.com/authlake/authlake/engine"
	ip "github.com/authlake/authlake/identityprotection"
	"github.com/authlake/authlake/identityprotection/attacks"
)

// demoRiskBackground is the size of the generated background the demo's attacks are written
// over: attack scenarios need victims with enough sign-ins in the window they study, which the
// newest events of a large demo do not give.
const demoRiskBackground = 20_000

// seedDemoRisk gives the demo's Identity Protection something to show: labelled attacks
// (password spray, anonymizer and threat-list addresses, impossible travel, …) written over a
// generated background of the tenant (the demo's own events when it has 20,000, else 20,000
// more of its users' kind), the anonymizer and threat lists that go with them, and one
// detection run. It runs once, when the demo data is made.
func seedDemoRisk(ctx context.Context, db *engine.DB, tenant string, end time.Time) error {
	var buf bytes.Buffer
	if _, _, err := gen.Write(&buf, gen.Config{Events: demoRiskBackground, Seed: 1, Tenant: tenant, End: end, Days: 29}); err != nil {
		return err
	}
	bg := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	att, err := attacks.Inject(bg, attacks.Config{Seed: 1, PerScenario: 2})
	if err != nil {
		return err
	}
	lines := append(bg, att.Events...)
	recs := make([]engine.Record, len(lines))
	for i, e := range lines {
		recs[i] = engine.Record{Raw: e}
	}
	if _, err := db.Ingest(recs, engine.IngestOptions{Tenant: tenant}); err != nil {
		return err
	}
	store, err := ip.Open(ip.Dir(db.Dir()), ip.Options{Now: db.Now})
	if err != nil {
		return err
	}
	defer store.Close()
	for kind, ips := range map[string][]string{"anonymous": att.AnonymousIPs, "threat": att.ThreatIPs} {
		if _, err := store.ImportIPList(kind, "demo-"+kind+".txt", []byte(strings.Join(ips, "\n"))); err != nil {
			return err
		}
	}
	job, err := ip.RunDetection(ctx, db, store, tenant, ip.JobOptions{Now: db.Now})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "identity protection: %d attack sign-ins added, %d detections, %d risky users\n",
		len(att.Events), job.Detections, len(store.RiskyUsers(tenant)))
	return nil
}
