package sdkcompat

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// TestNodeSDKs runs node/sdk.mjs (Microsoft's JavaScript/TypeScript SDKs: @microsoft/msgraph-sdk
// with msgraph-sdk-core's PageIterator, and @microsoft/microsoft-graph-client v3) against the
// harness's server over https, trusting its certificate through NODE_EXTRA_CA_CERTS as an
// operator would, and holds every answer against the engine's.
func TestNodeSDKs(t *testing.T) {
	if _, err := os.Stat("node/node_modules/@microsoft/msgraph-sdk"); err != nil {
		t.Fatalf("the SDKs are not installed: run `npm ci --prefix sdkcompat/node` (.ci/run does): %v", err)
	}
	h := start(t, 20000)
	some := h.engineIDs(t, "")
	filters := []string{"", "status/errorCode eq 50126", "createdDateTime ge " + end.AddDate(0, 0, -3).Format("2006-01-02T15:04:05Z")}
	fj, _ := json.Marshal(filters)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "sdk.mjs")
	cmd.Dir = "node"
	cmd.Env = append(os.Environ(),
		"AUTHLAKE_BASE="+h.base,
		"AUTHLAKE_READ_TOKEN="+h.token(t, "AuditLog.Read.All"),
		"AUTHLAKE_WRITE_TOKEN="+h.token(t, "IdentityRiskyUser.ReadWrite.All", "IdentityRiskEvent.Read.All"),
		"AUTHLAKE_FILTERS="+string(fj),
		"NODE_EXTRA_CA_CERTS="+h.caFile,
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node sdk.mjs: %v\n%s", err, stderr.String())
	}
	var out struct {
		Kiota struct {
			Lists map[string][]string
			Get   struct {
				ID, CreatedDateTime, UserPrincipalName string
				ErrorCode                              *int
			}
			NotFound, BadFilter *struct {
				Status int
				Code   string
			}
			RiskyUsers, RiskDetections int
			AfterAction                string
			History                    []struct{ ID, RiskState string }
		}
		Client struct {
			Lists    map[string][]string
			Get      string
			NotFound *struct {
				Status int
				Code   string
			}
		}
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("node output: %v\n%s", err, stdout)
	}
	for _, f := range filters {
		want := h.engineIDs(t, f)
		if len(want) == 0 {
			t.Fatalf("%q matches nothing: the test would prove little", f)
		}
		for sdk, got := range map[string][]string{"msgraph-sdk": out.Kiota.Lists[f], "microsoft-graph-client": out.Client.Lists[f]} {
			if !slices.Equal(got, want) {
				t.Fatalf("%s, %q: paged %d sign-ins, the engine has %d (first difference near %d)", sdk, f, len(got), len(want), firstDiff(got, want))
			}
		}
	}
	if g := out.Kiota.Get; g.ID != some[0] || g.CreatedDateTime == "" || g.ErrorCode == nil || g.UserPrincipalName == "" {
		t.Fatalf("msgraph-sdk get by id: %+v", g)
	}
	if out.Client.Get != some[0] {
		t.Fatalf("microsoft-graph-client get by id: %q", out.Client.Get)
	}
	if e := out.Kiota.NotFound; e == nil || e.Status != 404 || e.Code != "Request_ResourceNotFound" {
		t.Fatalf("msgraph-sdk, unknown id: %+v", e)
	}
	if e := out.Kiota.BadFilter; e == nil || e.Status != 400 {
		t.Fatalf("msgraph-sdk, bad filter: %+v", e)
	}
	if e := out.Client.NotFound; e == nil || e.Status != 404 || e.Code != "Request_ResourceNotFound" {
		t.Fatalf("microsoft-graph-client, unknown id: %+v", e)
	}
	if out.Kiota.RiskyUsers == 0 || out.Kiota.RiskDetections == 0 || out.Kiota.AfterAction != "confirmedCompromised" || len(out.Kiota.History) < 2 {
		t.Fatalf("msgraph-sdk Identity Protection: %d risky users, %d detections, state after confirmCompromised %q, %d history items",
			out.Kiota.RiskyUsers, out.Kiota.RiskDetections, out.Kiota.AfterAction, len(out.Kiota.History))
	}
}
