package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/authlake/authlake/engine"
	ip "github.com/authlake/authlake/identityprotection"
	"github.com/authlake/authlake/identityprotection/attacks"
	"github.com/authlake/authlake/query"
)

// demoRiskBackground is how many of the newest sign-ins the demo's attacks are written over.
const demoRiskBackground = 20_000

// seedDemoRisk gives the demo's Identity Protection something to show: labelled attacks
// (password spray, anonymizer and threat-list addresses, impossible travel, …) written over the
// tenant's newest sign-ins, the anonymizer and threat lists that go with them, and one detection
// run. It runs once, when the demo data is made.
func seedDemoRisk(ctx context.Context, db *engine.DB, tenant string) error {
	res, err := db.Query(ctx, tenant, query.Request{
		Filter: "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')", Top: demoRiskBackground,
	})
	if err != nil {
		return err
	}
	bg := slices.Clone(res.Rows)
	slices.Reverse(bg) // oldest first, as generated
	att, err := attacks.Inject(bg, attacks.Config{Seed: 1, PerScenario: 2})
	if err != nil {
		return err
	}
	recs := make([]engine.Record, len(att.Events))
	for i, e := range att.Events {
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
