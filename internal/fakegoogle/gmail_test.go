package fakegoogle_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

const wantAuthErrorBody = `{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.","errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError","location":"Authorization","locationType":"header"}],"status":"UNAUTHENTICATED"}}`

// getRaw sends GET path with an optional Authorization header.
func getRaw(t *testing.T, h *harness, path, authorization string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestGmailRejectsInvalidCredentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	live := h.login("alice@example.com")
	revoked := h.login("bob@example.org")
	if status, _ := revoke(t, h, revoked.RefreshToken, false); status != 200 {
		t.Fatal("revoke failed")
	}
	tests := []struct {
		name string
		auth string
	}{
		{"no Authorization header", ""},
		{"unknown token", "Bearer ya29.demo-unknown"},
		{"revoked token", "Bearer " + revoked.AccessToken},
		{"refresh token used as access token", "Bearer " + live.RefreshToken},
		{"basic scheme", "Basic " + live.AccessToken},
		{"empty bearer", "Bearer "},
	}
	for _, tc := range tests {
		for _, path := range []string{fakegoogle.LabelsPath} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				res, body := getRaw(t, h, path+"?alt=json&prettyPrint=false", tc.auth)
				if res.StatusCode != 401 || body != wantAuthErrorBody {
					t.Errorf("got %d %s", res.StatusCode, body)
				}
				if got := res.Header.Get("WWW-Authenticate"); got != `Bearer realm="https://accounts.google.com/", error="invalid_token"` {
					t.Errorf("WWW-Authenticate = %q", got)
				}
				if got := res.Header.Get("Content-Type"); got != "application/json; charset=UTF-8" {
					t.Errorf("Content-Type = %q", got)
				}
			})
		}
	}
	t.Run("as seen by the gmail client", func(t *testing.T) {
		_, err := h.gmailWith(h.staticClient("ya29.demo-unknown")).Users.Labels.List("me").Do()
		var gerr *googleapi.Error
		if !errors.As(err, &gerr) || gerr.Code != 401 || len(gerr.Errors) != 1 || gerr.Errors[0].Reason != "authError" {
			t.Errorf("err = %#v, want 401 authError", err)
		}
	})
}

func TestGmailNeedsAGmailScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scopes []string
		labels int // expected status
	}{
		{[]string{"openid", "email"}, 403},
		{[]string{"https://www.googleapis.com/auth/gmail.labels"}, 200},
		{[]string{"https://mail.google.com/"}, 200},
		{[]string{"openid", "https://www.googleapis.com/auth/gmail.metadata"}, 200},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.scopes, " "), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakegoogle.Options{}, tc.scopes...)
			tok := h.login("")
			svc := h.gmail(tok)
			_, lerr := svc.Users.Labels.List("me").Do()
			for _, c := range []struct {
				err  error
				want int
			}{{lerr, tc.labels}} {
				if c.want == 200 {
					if c.err != nil {
						t.Errorf("err = %v, want success", c.err)
					}
					continue
				}
				var gerr *googleapi.Error
				if !errors.As(c.err, &gerr) || gerr.Code != 403 || gerr.Errors[0].Reason != "insufficientPermissions" ||
					gerr.Message != "Request had insufficient authentication scopes." || !strings.Contains(gerr.Body, `"status":"PERMISSION_DENIED"`) {
					t.Errorf("err = %#v, want 403 insufficientPermissions", c.err)
				}
			}
		})
	}
}

func TestGmailUserIDMayBeTheTokensOwnAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("bob@example.org")
	svc := h.gmail(tok)
	res, err := svc.Users.Labels.List("bob@example.org").Do()
	if err != nil {
		t.Fatalf("labels by address: %v", err)
	}
	if len(res.Labels) != len(h.account("bob@example.org").Labels) {
		t.Errorf("got %d labels", len(res.Labels))
	}
	_, err = svc.Users.Labels.List("alice@example.com").Do()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != 403 || gerr.Errors[0].Reason != "forbidden" {
		t.Errorf("another user's labels: err = %v, want 403", err)
	}
}

func TestGmailLabelsJSONShape(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("mallory@example.com")
	res, body := getRaw(t, h, fakegoogle.LabelsPath+"?alt=json&prettyPrint=false&fields=labels&unknown=1", "Bearer "+tok.AccessToken)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json; charset=UTF-8" {
		t.Fatalf("got %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var parsed struct {
		Labels []map[string]any `json:"labels"`
	}
	if err := json.Unmarshal([]byte(body), &parsed); err != nil {
		t.Fatal(err)
	}
	var sawColor, sawXSS bool
	for _, l := range parsed.Labels {
		if l["id"] == nil || l["name"] == nil || (l["type"] != "system" && l["type"] != "user") {
			t.Errorf("label %v lacks id, name or type", l)
		}
		if c, ok := l["color"].(map[string]any); ok && c["textColor"] != nil && c["backgroundColor"] != nil {
			sawColor = true
		}
		if l["name"] == fakegoogle.XSSLabelName {
			sawXSS = true
		}
	}
	if !sawColor || !sawXSS {
		t.Errorf("color %v, xss label %v in %s", sawColor, sawXSS, body)
	}
}

func TestUnknownPathsAndMethodsGetJSONErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	res, body := getRaw(t, h, "/gmail/v1/users/me/messages", "")
	if res.StatusCode != 404 || !strings.Contains(body, `"status":"NOT_FOUND"`) || !json.Valid([]byte(body)) {
		t.Errorf("unknown path: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPut, h.ts.URL+fakegoogle.LabelsPath, nil)
	put, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(put.Body)
	put.Body.Close()
	if put.StatusCode != 405 || put.Header.Get("Allow") != "GET, POST" || !json.Valid(b) {
		t.Errorf("PUT labels: %d, Allow %q, body %s", put.StatusCode, put.Header.Get("Allow"), b)
	}
}

func TestStatsCountGmailRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("")
	svc := h.gmail(tok)
	for range 3 {
		if _, err := svc.Users.Labels.List("me").Do(); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = h.gmailWith(oauth2.NewClient(h.ctx(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"}))).Users.Labels.List("me").Do()
	got := h.srv.Stats()
	if got.GmailRequests != 4 || got.TokenRequests != 1 || got.CodeExchanges != 1 ||
		got.AuthorizationRequests != 1 || got.Consents != 1 {
		t.Errorf("stats = %+v", got)
	}
}

func TestGmailRecordsTheFieldsItWasAskedForAndAnswersEveryField(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	svc := h.gmail(h.login("bob@example.org"))
	for _, fields := range []googleapi.Field{"labels(name,type)", "", "labels(name,type)"} {
		call := svc.Users.Labels.List("me")
		if fields != "" {
			call.Fields(fields)
		}
		res, err := call.Do()
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Labels) == 0 || res.Labels[0].Id == "" || res.Labels[0].Name == "" {
			t.Fatalf("with fields %q: %+v, want every field", fields, res.Labels)
		}
	}
	if got := h.srv.Stats().LabelsFields; len(got) != 2 || got["labels(name,type)"] != 2 || got[""] != 1 {
		t.Errorf("Stats().LabelsFields = %v, want labels(name,type) twice and none once", got)
	}
}

func TestEndlessFieldsValuesDoNotGrowTheServer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	svc := h.gmail(h.login(""))
	for i := range 100 {
		if _, err := svc.Users.Labels.List("me").Fields(googleapi.Field(fmt.Sprintf("labels(name),x%d", i))).Do(); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if got := len(h.srv.Stats().LabelsFields); got != 64 {
		t.Errorf("Stats counts %d distinct fields values, want the first 64", got)
	}
}

func TestAPILatencyDelaysEveryAPIAnswer(t *testing.T) {
	t.Parallel()
	const latency = 80 * time.Millisecond
	h := newHarness(t, fakegoogle.Options{APILatency: latency})
	svc := h.gmail(h.login(""))
	start := time.Now()
	if _, err := svc.Users.Labels.List("me").Do(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < latency {
		t.Fatalf("labels.list answered after %v, want at least %v", took, latency)
	}
	// A client that gives up first gets no answer and holds nothing.
	ctx, cancel := context.WithTimeout(context.Background(), latency/4)
	defer cancel()
	if _, err := svc.Users.Labels.List("me").Context(ctx).Do(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the client's deadline", err)
	}
}
