package oauthgmail

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var status int
			if tt.gmail {
				p, _ := gmailProblem(tt.ctx, tt.err)
				status = p.Status
			} else {
				p, _ := tokenProblem(tt.ctx, tt.err)
				status = p.Status
			}
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d", status, tt.wantStatus)
			}
		})
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
