package oauthgmail

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/upstream"
)

func TestUpstreamFailuresMapToPages(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	live := context.Background()
	tooLarge := fmt.Errorf("reading body: %w", upstream.ErrBodyTooLarge)
	tests := []struct {
		name       string
		ctx        context.Context
		err        error
		gmail      bool
		wantStatus int
	}{
		{"gmail body too large after the deadline", expired, tooLarge, true, http.StatusBadGateway},
		{"token body too large after the deadline", expired, tooLarge, false, http.StatusBadGateway},
		{"gmail deadline", expired, context.DeadlineExceeded, true, http.StatusGatewayTimeout},
		{"token deadline", live, fmt.Errorf("post: %w", context.DeadlineExceeded), false, http.StatusGatewayTimeout},
		{"gmail 403 with a rate-limit reason only in the body", live, &googleapi.Error{Code: 403, Body: `{"error":{"status":"RESOURCE_EXHAUSTED"}}`}, true, http.StatusServiceUnavailable},
		{"gmail 400", live, &googleapi.Error{Code: 400}, true, http.StatusBadGateway},
		{"token invalid_grant", live, &oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, ErrorCode: "invalid_grant"}, false, http.StatusBadRequest},
		{"token 500 without a response", live, &oauth2.RetrieveError{ErrorCode: "server_error"}, false, http.StatusBadGateway},
		{"unknown error", live, errors.New("boom"), true, http.StatusBadGateway},
		{"gmail 403 for a missing scope, in ErrorInfo only", live, &googleapi.Error{Code: 403, Body: `{"error":{"details":[{"reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}`}, true, http.StatusForbidden},
		{"gmail 403 for a disabled API", live, &googleapi.Error{Code: 403, Errors: []googleapi.ErrorItem{{Reason: "accessNotConfigured"}}}, true, http.StatusForbidden},
		{"client timeout", live, &url.Error{Op: "Get", URL: "https://gmail.googleapis.com/", Err: timeoutError{}}, true, http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var status int
			if tt.gmail {
				status = googleProblem(tt.ctx, "Gmail", tt.err, "/listlabels").page.Status
			} else {
				p, _ := tokenProblem(tt.ctx, tt.err, "/oauth2init")
				status = p.Status
			}
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d", status, tt.wantStatus)
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestGoogleProblemsNameTheAPIAndOfferOneAction(t *testing.T) {
	live := context.Background()
	for _, err := range []error{
		&googleapi.Error{Code: 429}, &googleapi.Error{Code: 500}, &googleapi.Error{Code: 503},
		&googleapi.Error{Code: 403, Errors: []googleapi.ErrorItem{{Reason: "insufficientPermissions"}}},
		&googleapi.Error{Code: 403, Errors: []googleapi.ErrorItem{{Reason: "forbidden"}}},
		&googleapi.Error{Code: 403, Errors: []googleapi.ErrorItem{{Reason: "accessNotConfigured"}}},
		context.DeadlineExceeded, errors.New("unreadable"),
	} {
		f := googleProblem(live, "Google Drive", err, "/listcalendars")
		p := f.page
		if !strings.Contains(p.Heading+p.Detail, "Google Drive") || strings.Contains(p.Heading+p.Detail, "Gmail") {
			t.Errorf("%v: page %q / %q does not speak of the API it was given", err, p.Heading, p.Detail)
		}
		if p.Next == nil || p.Next.URL == "" || p.Next.Text == "" {
			t.Errorf("%v: page %q offers no action", err, p.Heading)
		}
		if want := hasReason(asGoogleError(err), scopeReasons); f.needsConsent != want {
			t.Errorf("%v: needsConsent %v, want %v", err, f.needsConsent, want)
		}
	}
}

func asGoogleError(err error) *googleapi.Error {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr
	}
	return &googleapi.Error{}
}

func TestAuthorizationErrorsAreExplainedWithoutEchoingTheCode(t *testing.T) {
	for _, code := range []string{"access_denied", "invalid_scope", "server_error", "temporarily_unavailable", "admin_policy_enforced", "made_up_error", "<b>bold</b>"} {
		p := authorizationProblem(code)
		if strings.Contains(p.Heading+p.Detail, code) {
			t.Errorf("%q: the page repeats the code: %q / %q", code, p.Heading, p.Detail)
		}
		if p.Status < 400 || p.Status >= 500 || p.Next == nil || p.Next.URL != "/oauth2init" {
			t.Errorf("%q: status %d next %v, want a 4xx page leading back to sign-in", code, p.Status, p.Next)
		}
	}
	if authorizationProblem("made_up_error").Detail != "Something went wrong at Google. Please try again in a moment." {
		t.Errorf("an unknown code gets %q", authorizationProblem("made_up_error").Detail)
	}
}

func TestPrintableKeepsOnlyHarmlessCharacters(t *testing.T) {
	tests := []struct{ in, want string }{
		{"access_denied", "access_denied"},
		{"<script>alert('x')</script>", "scriptalertxscript"},
		{string(make([]byte, 200)), ""},
		{"a\nb\"c", "abc"},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := printable(string(make([]rune, 0)) + fmt.Sprint(make([]int, 100))); len(got) > 64 {
		t.Errorf("printable kept %d characters, want at most 64", len(got))
	}
}
