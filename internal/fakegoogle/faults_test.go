package fakegoogle_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

func TestGmailStatusFaultsAsSeenByTheGmailClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      fakegoogle.Fault
		wantReason string
		wantStatus string // google.rpc status in the body
		wantBody   string // exact body, when given
	}{
		{"401", fakegoogle.Fault{Status: 401}, "authError", "UNAUTHENTICATED", wantAuthErrorBody},
		{"403 user rate limit", fakegoogle.Fault{Status: 403, Reason: "userRateLimitExceeded", RetryAfter: "30"}, "userRateLimitExceeded", "PERMISSION_DENIED",
			`{"error":{"code":403,"message":"User-rate limit exceeded.","errors":[{"message":"User-rate limit exceeded.","domain":"usageLimits","reason":"userRateLimitExceeded"}],"status":"PERMISSION_DENIED"}}`},
		{"403 rate limit", fakegoogle.Fault{Status: 403, Reason: "rateLimitExceeded"}, "rateLimitExceeded", "PERMISSION_DENIED", ""},
		{"403 insufficient permissions", fakegoogle.Fault{Status: 403, Reason: "insufficientPermissions"}, "insufficientPermissions", "PERMISSION_DENIED", ""},
		{"403 without reason", fakegoogle.Fault{Status: 403}, "forbidden", "PERMISSION_DENIED", ""},
		{"429", fakegoogle.Fault{Status: 429, RetryAfter: "7"}, "rateLimitExceeded", "RESOURCE_EXHAUSTED", ""},
		{"500", fakegoogle.Fault{Status: 500}, "backendError", "INTERNAL", ""},
		{"502", fakegoogle.Fault{Status: 502}, "backendError", "UNAVAILABLE", ""},
		{"503 with Retry-After", fakegoogle.Fault{Status: 503, Reason: "backendError", RetryAfter: "120"}, "backendError", "UNAVAILABLE", ""},
		{"custom reason", fakegoogle.Fault{Status: 400, Reason: "failedPrecondition"}, "failedPrecondition", "INVALID_ARGUMENT", ""},
	}
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each subtest owns a fresh server so that faults do not mix.
			h := newHarness(t, fakegoogle.Options{})
			tok := h.login("")
			h.srv.FailGmail(tc.fault)
			_, err := h.gmail(tok).Users.Labels.List("me").Do()
			var gerr *googleapi.Error
			if !errors.As(err, &gerr) {
				t.Fatalf("err = %v, want *googleapi.Error", err)
			}
			if gerr.Code != tc.fault.Status || len(gerr.Errors) != 1 || gerr.Errors[0].Reason != tc.wantReason {
				t.Errorf("got %d %+v, want %d %s", gerr.Code, gerr.Errors, tc.fault.Status, tc.wantReason)
			}
			if !strings.Contains(gerr.Body, `"status":"`+tc.wantStatus+`"`) {
				t.Errorf("body %s lacks status %s", gerr.Body, tc.wantStatus)
			}
			if tc.wantBody != "" && gerr.Body != tc.wantBody {
				t.Errorf("body = %s\nwant   %s", gerr.Body, tc.wantBody)
			}
			if got := gerr.Header.Get("Retry-After"); got != tc.fault.RetryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.fault.RetryAfter)
			}
		})
	}
	// The shared harness never had a fault.
	if _, err := h.gmail(tok).Users.Labels.List("me").Do(); err != nil {
		t.Errorf("unfaulted server: %v", err)
	}
}

func TestGmailMalformedResponseBreaksTheClientDecoder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("")
	h.srv.FailGmail(fakegoogle.Fault{Malformed: true})
	_, err := h.gmail(tok).Users.Labels.List("me").Do()
	var gerr *googleapi.Error
	if err == nil || errors.As(err, &gerr) {
		t.Fatalf("err = %v, want a decoding error", err)
	}
	res, body := getRaw(t, h, fakegoogle.LabelsPath, "Bearer "+tok.AccessToken)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || json.Valid([]byte(body)) {
		t.Errorf("malformed: %d %q %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

func TestGmailHugeBodyIsValidJSONOfTheRequestedSize(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("")
	for _, size := range []int64{1, 13, 14, 100, 70_000, 3<<20 + 17} {
		t.Run(strconv.FormatInt(size, 10), func(t *testing.T) {
			h.srv.FailGmail(fakegoogle.Fault{HugeBody: size, Times: 1})
			res, body := getRaw(t, h, fakegoogle.LabelsPath, "Bearer "+tok.AccessToken)
			want := max(size, int64(len(`{"labels":[]}`)))
			if res.StatusCode != 200 || int64(len(body)) != want || res.ContentLength != want {
				t.Errorf("got %d with %d bytes (Content-Length %d), want 200 with %d", res.StatusCode, len(body), res.ContentLength, want)
			}
			var parsed struct {
				Labels []struct{ ID, Name string }
			}
			if err := json.Unmarshal([]byte(body), &parsed); err != nil {
				t.Errorf("huge body is not valid JSON: %v", err)
			}
		})
	}
	t.Run("gmail client decodes it", func(t *testing.T) {
		h.srv.FailGmail(fakegoogle.Fault{HugeBody: 1 << 20, Times: 1})
		res, err := h.gmail(tok).Users.Labels.List("me").Do()
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Labels) < 10_000 {
			t.Errorf("got %d labels from a 1 MiB body", len(res.Labels))
		}
	})
}

func TestFaultTimesAndClearing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("")
	svc := h.gmail(tok)
	statuses := func(n int) []int {
		var out []int
		for range n {
			_, err := svc.Users.Labels.List("me").Do()
			var gerr *googleapi.Error
			switch {
			case err == nil:
				out = append(out, 200)
			case errors.As(err, &gerr):
				out = append(out, gerr.Code)
			default:
				t.Fatalf("unexpected error %v", err)
			}
		}
		return out
	}
	h.srv.FailGmail(fakegoogle.Fault{Status: 503, Times: 2})
	if got := statuses(4); !slices.Equal(got, []int{503, 503, 200, 200}) {
		t.Errorf("Times 2: %v", got)
	}
	h.srv.FailGmail(fakegoogle.Fault{Status: 500})
	h.srv.FailGmail(fakegoogle.Fault{Status: 429})
	if got := statuses(3); !slices.Equal(got, []int{429, 429, 429}) {
		t.Errorf("replaced, unlimited fault: %v", got)
	}
	h.srv.ClearFaults()
	if got := statuses(1); !slices.Equal(got, []int{200}) {
		t.Errorf("after ClearFaults: %v", got)
	}
	h.srv.FailGmail(fakegoogle.Fault{Status: 500})
	h.srv.FailGmail(fakegoogle.Fault{})
	if got := statuses(1); !slices.Equal(got, []int{200}) {
		t.Errorf("after a zero Fault: %v", got)
	}
}

func TestTokenFaultsAsSeenByOAuth2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fault  fakegoogle.Fault
		status int    // of the *oauth2.RetrieveError, 0 for another error
		code   string // of the *oauth2.RetrieveError
		ok     bool   // the exchange succeeds anyway
	}{
		{name: "500", fault: fakegoogle.Fault{Status: 500}, status: 500, code: "server_error"},
		{name: "503 with reason", fault: fakegoogle.Fault{Status: 503, Reason: "temporarily_unavailable", RetryAfter: "5"}, status: 503, code: "temporarily_unavailable"},
		{name: "invalid_grant", fault: fakegoogle.Fault{Status: 400, Reason: "invalid_grant"}, status: 400, code: "invalid_grant"},
		{name: "malformed", fault: fakegoogle.Fault{Malformed: true}},
		{name: "huge body", fault: fakegoogle.Fault{HugeBody: 2 << 20}},
		// oauth2 retries a failed request once with the other client
		// authentication style, so a single failure goes unnoticed.
		{name: "one failure is retried by oauth2", fault: fakegoogle.Fault{Status: 500, Times: 1}, ok: true},
		{name: "two failures", fault: fakegoogle.Fault{Status: 500, Times: 2}, status: 500, code: "server_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakegoogle.Options{})
			u, verifier, state := h.authURL()
			code := h.approve(u, "", state)
			h.srv.FailToken(tc.fault)
			tok, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
			switch {
			case tc.ok:
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				if got := h.srv.Stats().TokenRequests; got != 2 {
					t.Errorf("TokenRequests = %d, want 2", got)
				}
			case tc.status != 0:
				retrieveError(t, err, tc.code, tc.status)
				var re *oauth2.RetrieveError
				if errors.As(err, &re) && re.Response.Header.Get("Retry-After") != tc.fault.RetryAfter {
					t.Errorf("Retry-After = %q", re.Response.Header.Get("Retry-After"))
				}
			default:
				var re *oauth2.RetrieveError
				if err == nil || errors.As(err, &re) {
					t.Errorf("got token %v, err %v; want a parse error", tok, err)
				}
			}
			if !tc.ok {
				h.srv.ClearFaults()
				if _, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier)); err != nil {
					t.Errorf("the code should still work after a faulted exchange: %v", err)
				}
			}
		})
	}
}

func TestRevokeFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("")
	h.srv.FailRevoke(fakegoogle.Fault{Status: 503, RetryAfter: "1", Times: 1})
	res, err := h.ts.Client().PostForm(h.ts.URL+fakegoogle.RevokePath, url.Values{"token": {tok.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || string(b) != `{"error":"server_error"}` || res.Header.Get("Retry-After") != "1" {
		t.Errorf("got %d %s", res.StatusCode, b)
	}
	h.srv.FailRevoke(fakegoogle.Fault{Malformed: true, Times: 1})
	res, err = h.ts.Client().PostForm(h.ts.URL+fakegoogle.RevokePath, url.Values{"token": {tok.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("malformed: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if h.srv.IsRevoked(tok.RefreshToken) {
		t.Errorf("a faulted revocation revoked the token")
	}
	if status, _ := revoke(t, h, tok.RefreshToken, false); status != 200 {
		t.Errorf("revoke after the faults: %d", status)
	}
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHangReleasesWhenTheClientGivesUp is not parallel, so that goleak sees
// only its own goroutines.
func TestHangReleasesWhenTheClientGivesUp(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	// Registered first, so it runs last: after the servers are closed.
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("")
	svc := h.gmail(tok)

	h.srv.FailGmail(fakegoogle.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := svc.Users.Labels.List("me").Context(ctx).Do()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the client waited %v", d)
	}
	waitFor(t, "the hung handler to return after the client left", func() bool { return h.srv.Hanging() == 0 })

	h.srv.FailToken(fakegoogle.Fault{Hang: true})
	u, verifier, state := h.authURL()
	code := h.approve(u, "", state)
	tctx, tcancel := context.WithTimeout(h.ctx(), 200*time.Millisecond)
	defer tcancel()
	if _, err := h.cfg.Exchange(tctx, code, oauth2.VerifierOption(verifier)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("token exchange: err = %v, want context.DeadlineExceeded", err)
	}
	waitFor(t, "the hung token request to return", func() bool { return h.srv.Hanging() == 0 })

	h.srv.ClearFaults()
	if _, err := svc.Users.Labels.List("me").Do(); err != nil {
		t.Errorf("after clearing the fault: %v", err)
	}
}

func TestCloseReleasesHungRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("")
	h.srv.FailGmail(fakegoogle.Fault{Hang: true})
	done := make(chan error, 1)
	go func() {
		_, err := h.gmail(tok).Users.Labels.List("me").Do()
		done <- err
	}()
	waitFor(t, "the request to hang", func() bool { return h.srv.Hanging() == 1 })
	h.srv.Close()
	select {
	case err := <-done:
		var gerr *googleapi.Error
		if !errors.As(err, &gerr) || gerr.Code != 503 {
			t.Errorf("released request: err = %v, want 503", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
	h.srv.Close() // idempotent
}

func TestHungRequestBlocksOnlyItsOwnRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("")
	h.srv.FailGmail(fakegoogle.Fault{Hang: true, Times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _, _ = h.gmail(tok).Users.Labels.List("me").Context(ctx).Do() }()
	waitFor(t, "the request to hang", func() bool { return h.srv.Hanging() == 1 })
	// Other requests, including Gmail ones after Times ran out, still work.
	if _, err := h.gmail(tok).Users.Labels.List("me").Do(); err != nil {
		t.Errorf("second Gmail request: %v", err)
	}
	if _, err := http.Get(h.ts.URL + fakegoogle.AuthPath); err != nil {
		t.Errorf("authorization endpoint: %v", err)
	}
	cancel()
	waitFor(t, "the hung request to end", func() bool { return h.srv.Hanging() == 0 })
}
