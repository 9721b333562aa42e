package oauthgmail

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/pages"
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
		{"gmail 400", live, &googleapi.Error{Code: 400}, true, http.StatusBadRequest},
		{"gmail 404", live, &googleapi.Error{Code: 404}, true, http.StatusNotFound},
		{"gmail 409", live, &googleapi.Error{Code: 409}, true, http.StatusConflict},
		{"gmail 412", live, &googleapi.Error{Code: 412}, true, http.StatusPreconditionFailed},
		{"gmail 418", live, &googleapi.Error{Code: 418}, true, http.StatusBadGateway},
		{"gmail 500", live, &googleapi.Error{Code: 500}, true, http.StatusBadGateway},
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
				status = googleProblem(tt.ctx, Function{Name: "listlabels", API: "Gmail"}, tt.err).page.Status
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
		f := googleProblem(live, Function{Name: "listfiles", API: "Google Drive"}, err)
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

func TestGoogleMessagesReachThePageEscapedAndBounded(t *testing.T) {
	gerr := &googleapi.Error{Code: 409, Message: "Label name exists or conflicts\n<script>"}
	p := googleProblem(context.Background(), Function{Name: "createlabel", API: "Gmail"}, gerr).page
	if !strings.Contains(p.Detail, "Google said: “Label name exists or conflicts <script>”.") {
		t.Errorf("409 detail %q does not quote Google's message on one line", p.Detail)
	}
	rec := newRecorder()
	failIn(rec, httptest.NewRequest(http.MethodPost, "/createlabel", nil), pages.Frame{}, p)
	if strings.Contains(rec.Body.String(), "<script>") || rec.Code != http.StatusConflict {
		t.Errorf("status %d; the page must escape Google's message: %s", rec.Code, rec.Body.String())
	}
	long := googleProblem(context.Background(), Function{Name: "createlabel", API: "Gmail"}, &googleapi.Error{Code: 400, Message: strings.Repeat("x", 1000)}).page
	if len(long.Detail) > 400 {
		t.Errorf("a 1000-character message made a %d-byte detail", len(long.Detail))
	}
	if quiet := googleProblem(context.Background(), Function{Name: "createlabel", API: "Gmail"}, &googleapi.Error{Code: 404}).page; strings.Contains(quiet.Detail, "said") {
		t.Errorf("without a message, the page still quotes one: %q", quiet.Detail)
	}
}

func TestAuthorizationErrorsAreExplainedWithoutEchoingTheCode(t *testing.T) {
	tests := []struct {
		code     string
		wantNext string // the link's text; "" for none
		choice   bool
	}{
		{"access_denied", "Choose again", true},
		{"server_error", "Try again", false},
		{"temporarily_unavailable", "Try again", false},
		{"made_up_error", "Try again", false},
		{"<b>bold</b>", "Try again", false},
		// Trying again cannot help: another account can, or only the
		// operator.
		{"admin_policy_enforced", "Use another account", false},
		{"org_internal", "Use another account", false},
		{"invalid_scope", "Use another account", false},
		{"invalid_client", "", false},
		{"redirect_uri_mismatch", "", false},
	}
	for _, tt := range tests {
		p := authorizationProblem(tt.code, "/oauth2init?next=listfiles")
		if strings.Contains(p.Heading+p.Detail, tt.code) {
			t.Errorf("%q: the page repeats the code: %q / %q", tt.code, p.Heading, p.Detail)
		}
		next := ""
		if p.Next != nil {
			next = p.Next.Text
		}
		if p.Status < 400 || p.Status >= 500 || next != tt.wantNext || p.Choice != tt.choice {
			t.Errorf("%q: status %d, next %q, choice %v; want a 4xx page, next %q, choice %v", tt.code, p.Status, next, p.Choice, tt.wantNext, tt.choice)
		}
		if next == "Try again" || next == "Choose again" {
			if p.Next.URL != "/oauth2init?next=listfiles" {
				t.Errorf("%q: retries at %q, want the same sign-in", tt.code, p.Next.URL)
			}
		}
	}
	if authorizationProblem("made_up_error", "/oauth2init").Detail != "Something went wrong at Google. Please try again in a moment." {
		t.Errorf("an unknown code gets %q", authorizationProblem("made_up_error", "/oauth2init").Detail)
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
