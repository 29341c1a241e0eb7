package diagnostic

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	db := fixtureDB(t)
	h := NewHandler(db, func(r *http.Request) (string, error) {
		if r.Header.Get("X-Tenant") == "" {
			return "", errors.New("no tenant in the request")
		}
		return r.Header.Get("X-Tenant"), nil
	}, Options{Now: func() time.Time { return testNow }})
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	srv := httptest.NewServer(mux) // loopback
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, params url.Values, tenant string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+Path+"?"+params.Encode(), nil)
	if tenant != "" {
		req.Header.Set("X-Tenant", tenant)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
	return resp.StatusCode, body
}

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs (go test ./diagnostic -run %s -update to accept):\n%s", path, t.Name(), got)
	}
}

func TestHandlerGolden(t *testing.T) {
	srv := testServer(t)
	code, body := get(t, srv, url.Values{"user": {"Avery Smith"}, "top": {"5"}}, testTenant)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var rep Report
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Search.User.ID != userA || len(rep.Summary.Rows) != 5 || rep.Summary.SkipToken == "" || len(rep.Findings) != 4 {
		t.Fatalf("report %+v", rep.Search)
	}
	golden(t, "http_avery.golden.json", body)

	// Flagged review over HTTP: the same groups as the Go API.
	code, body = get(t, srv, url.Values{"flagged": {"true"}}, testTenant)
	if code != http.StatusOK || !strings.Contains(string(body), `"diagnoseEvent": "00000000-0000-4000-8000-000000000005"`) {
		t.Fatalf("flagged: %d %s", code, body)
	}
	// explain=true adds plans.
	code, body = get(t, srv, url.Values{"user": {"avery.smith@contoso.com"}, "explain": {"true"}}, testTenant)
	if code != http.StatusOK || !strings.Contains(string(body), `"step": "diagnosed events"`) || !strings.Contains(string(body), "memtable:") {
		t.Fatalf("explain: %d", code)
	}
}

func TestHandlerErrors(t *testing.T) {
	srv := testServer(t)
	cases := []struct {
		params url.Values
		tenant string
		status int
		says   string
	}{
		{url.Values{"user": {"avery"}}, testTenant, http.StatusConflict, `"candidates"`},
		{url.Values{"user": {"zed"}}, testTenant, http.StatusNotFound, `no user matching \"zed\"`},
		{url.Values{"user": {"Avery Smith"}, "at": {"2020-01-01"}}, testTenant, http.StatusBadRequest, `"outOfRange"`},
		{url.Values{"user": {"Avery Smith"}, "at": {"yesterday"}}, testTenant, http.StatusBadRequest, "cannot read time"},
		{url.Values{"usr": {"x"}}, testTenant, http.StatusBadRequest, "unknown parameter"},
		{url.Values{}, testTenant, http.StatusBadRequest, "nothing to search"},
		{url.Values{"eventId": {"12345678-1234-4234-8234-123456789012"}}, testTenant, http.StatusNotFound, "no sign-in with id"},
		{url.Values{"user": {"x"}}, "", http.StatusForbidden, "no tenant"},
	}
	for _, c := range cases {
		code, body := get(t, srv, c.params, c.tenant)
		if code != c.status || !strings.Contains(string(body), c.says) || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%v: %d %s", c.params, code, body)
		}
	}
	resp, err := srv.Client().Post(srv.URL+Path, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}
