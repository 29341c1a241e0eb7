package sdkcompat

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	abs "github.com/microsoft/kiota-abstractions-go"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	kjson "github.com/microsoft/kiota-serialization-json-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/auditlogs"
	"github.com/microsoftgraph/msgraph-sdk-go/identityprotection"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// credential hands the SDK's Azure Identity authentication provider a token, as a client
// secret or managed identity credential would: the provider itself is Microsoft's, so it
// attaches the token only to https URLs of the allowed host, as it does for Graph.
type credential struct{ token string }

func (c credential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: c.token, ExpiresOn: end.AddDate(1, 0, 0)}, nil
}

// goAdapter is msgraph-sdk-go's request adapter as its GraphServiceClient builds it, pointed at
// the harness's server for version ver: only the base URL differs.
func (h *harness) goAdapter(t *testing.T, token, ver string) abs.RequestAdapter {
	t.Helper()
	u, _ := url.Parse(h.base)
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(credential{token}, []string{"https://graph.microsoft.com/.default"}, []string{u.Hostname()})
	if err != nil {
		t.Fatal(err)
	}
	opts := core.GraphClientOptions{GraphServiceVersion: ver, GraphServiceLibraryVersion: "1.89.0"}
	client := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(h.transport(), core.GetDefaultMiddlewaresWithOptions(&opts)...)}
	a, err := core.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, opts, kjson.NewJsonParseNodeFactory(), kjson.NewJsonSerializationWriterFactory(), client)
	if err != nil {
		t.Fatal(err)
	}
	a.SetBaseUrl(h.base + "/" + ver)
	return a
}

func ptr[T any](v T) *T { return &v }

// TestGoSDKSignIns lists sign-ins with the filters Graph documents, pages to the end with the
// SDK's PageIterator and compares every answer with the engine's; gets one by id; and checks
// that errors arrive as ODataError.
func TestGoSDKSignIns(t *testing.T) {
	h := start(t, 20000)
	ctx := context.Background()
	a := h.goAdapter(t, h.token(t, "AuditLog.Read.All"), "v1.0")
	logs := auditlogs.NewAuditLogsRequestBuilderInternal(map[string]string{}, a)

	// Values to filter on, taken from the data.
	some := h.engineIDs(t, "")
	if len(some) < 1000 {
		t.Fatalf("the harness holds %d interactive sign-ins, too few to page", len(some))
	}
	first, err := logs.SignIns().BySignInId(some[0]).Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	upn, app, corr, ip := *first.GetUserPrincipalName(), *first.GetAppDisplayName(), *first.GetCorrelationId(), *first.GetIpAddress()
	uid, appID := *first.GetUserId(), *first.GetAppId()
	if *first.GetId() != some[0] || first.GetCreatedDateTime() == nil || first.GetStatus() == nil || first.GetStatus().GetErrorCode() == nil {
		t.Fatalf("get by id: %v", first.GetId())
	}
	filters := []string{
		"",
		"createdDateTime ge " + end.AddDate(0, 0, -2).Format("2006-01-02T15:04:05Z") + " and createdDateTime le " + end.Format("2006-01-02T15:04:05Z"),
		"userPrincipalName eq '" + upn + "'",
		"startswith(userPrincipalName,'" + upn[:2] + "')",
		"appDisplayName eq '" + app + "'",
		"status/errorCode eq 50126",
		"status/errorCode ne 0",
		"correlationId eq '" + corr + "'",
		"ipAddress eq '" + ip + "'",
		"conditionalAccessStatus eq 'success'",
		"userId eq '" + uid + "'",
		"appId eq '" + appID + "' and status/errorCode eq 0",
		"location/countryOrRegion eq 'US'",
	}
	for _, f := range filters {
		q := &auditlogs.SignInsRequestBuilderGetQueryParameters{Top: ptr(int32(400))}
		if f != "" {
			q.Filter = &f
		}
		page, err := logs.SignIns().Get(ctx, &auditlogs.SignInsRequestBuilderGetRequestConfiguration{QueryParameters: q})
		if err != nil {
			t.Fatalf("%q: %v", f, err)
		}
		it, err := core.NewPageIterator[models.SignInable](page, a, models.CreateSignInCollectionResponseFromDiscriminatorValue)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := it.Iterate(ctx, func(s models.SignInable) bool {
			got = append(got, *s.GetId())
			return true
		}); err != nil {
			t.Fatalf("%q: paging: %v", f, err)
		}
		want := h.engineIDs(t, f)
		if !slices.Equal(got, want) {
			t.Fatalf("%q: the SDK paged %d sign-ins, the engine has %d (first difference near %d)", f, len(got), len(want), firstDiff(got, want))
		}
		if f != "" && len(want) == 0 {
			t.Fatalf("%q matches nothing in the harness's data: the test would prove little", f)
		}
	}

	// Errors are ODataErrors with Graph's codes.
	_, err = logs.SignIns().BySignInId("00000000-0000-4000-8000-000000000000").Get(ctx, nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 404 || *oe.GetErrorEscaped().GetCode() != "Request_ResourceNotFound" {
		t.Fatalf("get of an unknown id: %v", err)
	}
	_, err = logs.SignIns().Get(ctx, &auditlogs.SignInsRequestBuilderGetRequestConfiguration{QueryParameters: &auditlogs.SignInsRequestBuilderGetQueryParameters{Filter: ptr("userPrincipalName eq")}})
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 400 {
		t.Fatalf("a bad filter: %v", err)
	}
	// A token without the right is refused, as ODataError 403.
	denied := auditlogs.NewAuditLogsRequestBuilderInternal(map[string]string{}, h.goAdapter(t, h.token(t, "AuthLake.Ingest"), "v1.0"))
	if _, err = denied.SignIns().Get(ctx, nil); !errors.As(err, &oe) || oe.ResponseStatusCode != 403 {
		t.Fatalf("a token without AuditLog.Read.All: %v", err)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestGoSDKIdentityProtection: risky users, their history and one history item, risk
// detections, the admin actions on users and on sign-ins, through msgraph-sdk-go's
// identityprotection and auditlogs request builders.
func TestGoSDKIdentityProtection(t *testing.T) {
	h := start(t, 20000)
	ctx := context.Background()
	a := h.goAdapter(t, h.token(t, "IdentityRiskyUser.ReadWrite.All", "IdentityRiskEvent.ReadWrite.All", "AuditLog.Read.All"), "v1.0")
	ip := identityprotection.NewIdentityProtectionRequestBuilderInternal(map[string]string{}, a)

	dets, err := ip.RiskDetections().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dets.GetValue()) == 0 {
		t.Fatal("no risk detections in the harness's data")
	}
	for _, d := range dets.GetValue() {
		if d.GetId() == nil || d.GetRiskEventType() == nil || d.GetRiskLevel() == nil || d.GetDetectedDateTime() == nil {
			t.Fatalf("risk detection without its fields: %v", d.GetId())
		}
	}
	users, err := ip.RiskyUsers().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(users.GetValue()) == 0 {
		t.Fatal("no risky users in the harness's data")
	}
	u := users.GetValue()[0]
	uid := *u.GetId()
	body := identityprotection.NewRiskyUsersConfirmCompromisedPostRequestBody()
	body.SetUserIds([]string{uid})
	if err := ip.RiskyUsers().ConfirmCompromised().Post(ctx, body, nil); err != nil {
		t.Fatalf("confirmCompromised: %v", err)
	}
	after, err := ip.RiskyUsers().ByRiskyUserId(uid).Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.GetRiskState() == nil || *after.GetRiskState() != models.CONFIRMEDCOMPROMISED_RISKSTATE {
		t.Fatalf("risky user after confirmCompromised: %v", after.GetRiskState())
	}
	hist, err := ip.RiskyUsers().ByRiskyUserId(uid).History().Get(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	items := hist.GetValue()
	if len(items) < 2 {
		t.Fatalf("history of %s has %d items after an admin action", uid, len(items))
	}
	for _, it := range items {
		one, err := ip.RiskyUsers().ByRiskyUserId(uid).History().ByRiskyUserHistoryItemId(*it.GetId()).Get(ctx, nil)
		if err != nil {
			t.Fatalf("history item %s: %v", *it.GetId(), err)
		}
		if *one.GetId() != *it.GetId() || one.GetRiskState() == nil || *one.GetRiskState() != *it.GetRiskState() {
			t.Fatalf("history item %s reads differently alone", *it.GetId())
		}
	}
	dismiss := identityprotection.NewRiskyUsersDismissPostRequestBody()
	dismiss.SetUserIds([]string{uid})
	if err := ip.RiskyUsers().Dismiss().Post(ctx, dismiss, nil); err != nil {
		t.Fatalf("dismiss: %v", err)
	}
	if after, err = ip.RiskyUsers().ByRiskyUserId(uid).Get(ctx, nil); err != nil || *after.GetRiskState() != models.DISMISSED_RISKSTATE {
		t.Fatalf("risky user after dismiss: %v %v", after.GetRiskState(), err)
	}

	// Sign-in actions, then the sign-in reads, and filters, as dismissed.
	logs := auditlogs.NewAuditLogsRequestBuilderInternal(map[string]string{}, a)
	sid := h.engineIDs(t, "")[0]
	sd := auditlogs.NewSignInsDismissPostRequestBody()
	sd.SetRequestIds([]string{sid})
	if err := logs.SignIns().Dismiss().Post(ctx, sd, nil); err != nil {
		t.Fatalf("signIns/dismiss: %v", err)
	}
	s, err := logs.SignIns().BySignInId(sid).Get(ctx, nil)
	if err != nil || s.GetRiskState() == nil || *s.GetRiskState() != models.DISMISSED_RISKSTATE {
		t.Fatalf("sign-in after dismiss: %v %v", s.GetRiskState(), err)
	}
	page, err := logs.SignIns().Get(ctx, &auditlogs.SignInsRequestBuilderGetRequestConfiguration{QueryParameters: &auditlogs.SignInsRequestBuilderGetQueryParameters{Filter: ptr("riskState eq 'dismissed'")}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range page.GetValue() {
		found = found || *s.GetId() == sid
		if *s.GetRiskState() != models.DISMISSED_RISKSTATE {
			t.Fatalf("riskState eq 'dismissed' returned %s as %v", *s.GetId(), s.GetRiskState())
		}
	}
	if !found {
		t.Fatalf("riskState eq 'dismissed' does not return the dismissed sign-in %s", sid)
	}
	// Without the write right, an action is refused as ODataError 403.
	reader := identityprotection.NewIdentityProtectionRequestBuilderInternal(map[string]string{}, h.goAdapter(t, h.token(t, "IdentityRiskyUser.Read.All"), "v1.0"))
	var oe *odataerrors.ODataError
	if err := reader.RiskyUsers().ConfirmCompromised().Post(ctx, body, nil); !errors.As(err, &oe) || oe.ResponseStatusCode != 403 {
		t.Fatalf("confirmCompromised with a read token: %v", err)
	}
}
