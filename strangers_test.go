package oauthgmail

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// TestConfigurationProblemPageSaysOnlyThatTheAppIsNotSetUp checks that a
// visitor learns nothing about the configuration (no path, no value, no
// parse error), while the log names all of it for the operator.
func TestConfigurationProblemPageSaysOnlyThatTheAppIsNotSetUp(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		files    map[string]string
		revealed []string // in the log, never on the page
	}{
		{"client secret file that is not JSON",
			map[string]string{"CLIENT_SECRET_FILE": "/etc/shadow"},
			map[string]string{"/etc/shadow": "root:$6$salt$hash:19000:0:99999:7:::\n"},
			[]string{"/etc/shadow", "invalid JSON at byte 1"}},
		{"client secret file that cannot be read",
			map[string]string{"CLIENT_SECRET_FILE": "/srv/secrets/client.json"},
			nil,
			[]string{"/srv/secrets/client.json", "client secret file not found"}},
		{"cookie key of the wrong size",
			map[string]string{"CLIENT_SECRET_FILE": "cs.json", "COOKIE_SECRET": "c2hvcnQ="},
			map[string]string{"cs.json": `{"installed":{"client_id":"id","client_secret":"s3cr3t-value","auth_uri":"https://a.test/","token_uri":"https://b.test/"}}`},
			[]string{"COOKIE_SECRET", "decodes to 5 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			readFile := func(name string) ([]byte, error) {
				if c, ok := tt.files[name]; ok {
					return []byte(c), nil
				}
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
			var logs bytes.Buffer
			_, err := appFromEnvironment(func(k string) string { return tt.env[k] }, readFile, &logs)
			if err == nil {
				t.Fatal("appFromEnvironment accepted the configuration, want a problem")
			}
			rec := newRecorder()
			writeConfigurationProblem(rec, httptest.NewRequest(http.MethodGet, "/listlabels", nil))
			body := rec.Body.String()
			if rec.Code < 500 || !strings.Contains(body, "isn’t set up") {
				t.Errorf("status %d body %q, want 5xx saying the app is not set up", rec.Code, body)
			}
			for _, detail := range tt.revealed {
				if strings.Contains(body, detail) {
					t.Errorf("the page shows %q to any visitor: %q", detail, body)
				}
				if !strings.Contains(logs.String(), detail) {
					t.Errorf("the log does not say %q: %q", detail, logs.String())
				}
			}
			checkLogLines(t, logs.String(), []string{"s3cr3t-value", "$6$salt$hash"})
		})
	}
}

// TestOverriddenGoogleEndpointsAreLoggedAtStart checks that every Google
// endpoint the configuration replaces is named in a WARNING line, with its
// address and without any secret.
func TestOverriddenGoogleEndpointsAreLoggedAtStart(t *testing.T) {
	clientSecret := `{"web":{"client_id":"id","client_secret":"s3cr3t-value","auth_uri":"https://accounts.google.com/o/oauth2/auth",` +
		`"token_uri":"https://token.emulator.test/token","redirect_uris":["https://r-p.cloudfunctions.net/oauth2callback"]}}`
	env := map[string]string{
		"K_SERVICE": "oauth2init", "COOKIE_SECRET": testKey, "CLIENT_SECRET_JSON": clientSecret,
		"GMAIL_ENDPOINT": "https://gmail.emulator.test", "GOOGLE_API_ENDPOINT": "https://apis.emulator.test:8443",
		"REVOKE_URL": "https://revoke.emulator.test/revoke?key=k3y-value",
	}
	var logs bytes.Buffer
	if _, err := appFromEnvironment(func(k string) string { return env[k] }, nil, &logs); err != nil {
		t.Fatalf("appFromEnvironment: %v", err)
	}
	checkLogLines(t, logs.String(), []string{"s3cr3t-value", "k3y-value", testKey})
	warned := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var obj map[string]any
		if json.Unmarshal([]byte(line), &obj) == nil && obj["severity"] == "WARNING" {
			setting, _ := obj["setting"].(string)
			warned[setting], _ = obj["url"].(string)
		}
	}
	want := map[string]string{
		"token_uri":           "https://token.emulator.test/token",
		"GMAIL_ENDPOINT":      "https://gmail.emulator.test",
		"GOOGLE_API_ENDPOINT": "https://apis.emulator.test:8443",
		"REVOKE_URL":          "https://revoke.emulator.test/revoke",
	}
	if !maps.Equal(warned, want) {
		t.Fatalf("WARNING lines name %v, want %v; logs:\n%s", warned, want, logs.String())
	}
}

// TestDeployedHTTPGoogleEndpointIsAConfigurationProblem checks, end to end,
// that a deployed app refuses a plain-http Google endpoint rather than send
// the client secret or a token over it.
func TestDeployedHTTPGoogleEndpointIsAConfigurationProblem(t *testing.T) {
	clientSecret := `{"web":{"client_id":"id","client_secret":"s3cr3t-value","auth_uri":"https://accounts.google.com/o/oauth2/auth",` +
		`"token_uri":"http://oauth2.googleapis.com/token","redirect_uris":["https://r-p.cloudfunctions.net/oauth2callback"]}}`
	env := map[string]string{"K_SERVICE": "oauth2init", "COOKIE_SECRET": testKey, "CLIENT_SECRET_JSON": clientSecret}
	var logs bytes.Buffer
	_, err := appFromEnvironment(func(k string) string { return env[k] }, nil, &logs)
	if err == nil || !strings.Contains(err.Error(), "token_uri") {
		t.Fatalf("appFromEnvironment: %v, want a problem naming token_uri", err)
	}
	if !strings.Contains(logs.String(), `"severity":"ERROR"`) || !strings.Contains(logs.String(), "token_uri") {
		t.Fatalf("want an ERROR line naming token_uri, got %q", logs.String())
	}
	checkLogLines(t, logs.String(), []string{"s3cr3t-value"})
}

// issueToken signs demoEmail in at e's fake Google, as the app's OAuth
// client, and returns the access token Google issued.
func issueToken(t *testing.T, e *testEnv) string {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	scope := oauth2.SetAuthURLParam("scope", strings.Join(signInScopes, " "))
	callback, err := e.google.Approve(e.app.oauth.AuthCodeURL("state", oauth2.S256ChallengeOption(verifier), scope), demoEmail)
	if err != nil {
		t.Fatalf("Approve: %v", err)
	}
	tok, err := e.app.oauth.Exchange(e.app.tokenContext(context.Background()), callback.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok.AccessToken
}

// TestRevocationIsConfirmedOnlyByGooglesAnswers checks which answers of the
// revocation endpoint count as Google's confirmation: 200, and 400
// invalid_token for a token Google no longer knows. Anything else is logged
// (without the token) and not confirmed, and a redirect is not followed.
func TestRevocationIsConfirmedOnlyByGooglesAnswers(t *testing.T) {
	tests := []struct {
		name string
		// prepare readies the fake Google, may return a stranger's
		// revocation endpoint to use instead of Google's, and returns the
		// token to revoke.
		prepare       func(t *testing.T, e *testEnv) (token, revokeURL string)
		wantConfirmed bool
	}{
		{"200 for a live token", func(t *testing.T, e *testEnv) (string, string) {
			return issueToken(t, e), ""
		}, true},
		{"400 invalid_token for a token revoked already", func(t *testing.T, e *testEnv) (string, string) {
			token := issueToken(t, e)
			if !e.app.revoke(context.Background(), token) {
				t.Fatal("the first revocation was not confirmed")
			}
			return token, ""
		}, true},
		{"400 invalid_token for a token Google never issued", func(t *testing.T, e *testEnv) (string, string) {
			return "ya29.unknown-token-value", ""
		}, true},
		{"400 invalid_request", func(t *testing.T, e *testEnv) (string, string) {
			e.google.FailRevoke(fakegoogle.Fault{Status: http.StatusBadRequest, Reason: "invalid_request"})
			return issueToken(t, e), ""
		}, false},
		{"400 with another error", func(t *testing.T, e *testEnv) (string, string) {
			e.google.FailRevoke(fakegoogle.Fault{Status: http.StatusBadRequest})
			return issueToken(t, e), ""
		}, false},
		{"503", func(t *testing.T, e *testEnv) (string, string) {
			e.google.FailRevoke(fakegoogle.Fault{Status: http.StatusServiceUnavailable})
			return issueToken(t, e), ""
		}, false},
		{"a stranger's 400 without JSON", func(t *testing.T, e *testEnv) (string, string) {
			return issueToken(t, e), stranger(t, func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "Bad Request", http.StatusBadRequest)
			})
		}, false},
		{"a stranger's 400 with invalid_token in the text", func(t *testing.T, e *testEnv) (string, string) {
			return issueToken(t, e), stranger(t, func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "invalid_token", http.StatusBadRequest)
			})
		}, false},
		{"307 to Google's endpoint", func(t *testing.T, e *testEnv) (string, string) {
			return issueToken(t, e), stranger(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, e.googleURL+fakegoogle.RevokePath, http.StatusTemporaryRedirect)
			})
		}, false},
		{"302", func(t *testing.T, e *testEnv) (string, string) {
			return issueToken(t, e), stranger(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			})
		}, false},
		{"no answer", func(t *testing.T, e *testEnv) (string, string) {
			closed := httptest.NewServer(http.NotFoundHandler())
			closed.Close()
			return issueToken(t, e), closed.URL + "/revoke"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			token, revokeURL := tt.prepare(t, e)
			if revokeURL != "" {
				e.useTransport(map[string]string{"REVOKE_URL": revokeURL})
			}
			before := e.logs.String()
			requestsBefore := e.google.Stats().RevokeRequests
			confirmed := e.app.revoke(context.Background(), token)
			if confirmed != tt.wantConfirmed {
				t.Fatalf("revoke confirmed = %v, want %v", confirmed, tt.wantConfirmed)
			}
			logged := strings.TrimPrefix(e.logs.String(), before)
			if warned := strings.Contains(logged, `"severity":"WARNING"`) && strings.Contains(logged, "not confirmed"); warned == tt.wantConfirmed {
				t.Errorf("a WARNING that the revocation was not confirmed: %v, want %v; log %q", warned, !tt.wantConfirmed, logged)
			}
			if strings.Contains(logged, token) {
				t.Errorf("the log holds the token: %q", logged)
			}
			if revokeURL != "" && e.google.Stats().RevokeRequests != requestsBefore {
				t.Errorf("the token reached Google's endpoint through the stranger's redirect")
			}
		})
	}
}

// stranger serves h on a loopback server for the test and returns its
// revocation URL: an endpoint that is not Google's.
func stranger(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL + "/revoke"
}

// TestEveryRequestsLogLinesCarryAnExecutionID checks that a request whose
// Function-Execution-Id is missing or malformed still gets a well-formed
// execution id on its log lines, a different one for each request.
func TestEveryRequestsLogLinesCarryAnExecutionID(t *testing.T) {
	tests := []struct {
		name   string
		header string // "" sends none
	}{
		{"no header", ""},
		{"a space", "exec 1"},
		{"a quote", `exec"1`},
		{"too long", strings.Repeat("e", 65)},
		{"non-ASCII letters", "été"},
	}
	wellFormed := regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			seen := map[string]bool{}
			for range 2 {
				before := len(e.logs.String())
				header := http.Header{}
				if tt.header != "" {
					header.Set("Function-Execution-Id", tt.header)
				}
				// A callback without a sign-in in progress logs a line.
				if r := e.newBrowser().do(http.MethodGet, "/oauth2callback?state=s&code=c", header); r.status != http.StatusBadRequest {
					t.Fatalf("callback: status %d, want 400", r.status)
				}
				lines := strings.Split(strings.TrimSpace(e.logs.String()[before:]), "\n")
				if lines[0] == "" {
					t.Fatal("the request logged nothing")
				}
				id := ""
				for _, line := range lines {
					var obj map[string]any
					if err := json.Unmarshal([]byte(line), &obj); err != nil {
						t.Fatalf("log line is not JSON: %q", line)
					}
					got, _ := obj["execution_id"].(string)
					if !wellFormed.MatchString(got) || id != "" && got != id {
						t.Fatalf("execution_id = %q, want one well-formed id for all of the request's lines; line %q", got, line)
					}
					id = got
				}
				if seen[id] {
					t.Fatalf("two requests logged the same execution id %q", id)
				}
				seen[id] = true
			}
		})
	}
}

// TestAProxyThatRewritesHostGetsOneRedirectThenASignIn puts the app behind
// a proxy that always replaces Host with its own back end's name and says
// nothing in X-Forwarded-Host. oauth2init cannot tell that the browser is on
// the redirect URL's host already: it moves the browser there once, then
// serves the sign-in instead of redirecting again, and the sign-in completes.
func TestAProxyThatRewritesHostGetsOneRedirectThenASignIn(t *testing.T) {
	e := newTestEnv(t)
	backend, _ := url.Parse(e.server.URL)
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(backend)
		pr.Out.Host = "backend.internal"
	}})
	t.Cleanup(proxy.Close)
	e.useTransport(map[string]string{"REDIRECT_URL": proxy.URL + "/oauth2callback"})
	e.google.AllowRedirectURI(proxy.URL + "/oauth2callback")
	b := e.newBrowser()
	b.base = proxy.URL

	first := b.get("/oauth2init?next=listlabels")
	if want := proxy.URL + "/oauth2init?next=listlabels&moved=1"; first.status != http.StatusFound || first.location() != want {
		t.Fatalf("first visit: %d %q, want 302 to %s", first.status, first.location(), want)
	}
	before := e.logs.String()
	second := b.get(first.location())
	if second.status != http.StatusFound || !strings.HasPrefix(second.location(), e.googleURL) {
		t.Fatalf("after one move: %d %q, want 302 to Google's sign-in, not another move", second.status, second.location())
	}
	if logged := strings.TrimPrefix(e.logs.String(), before); !strings.Contains(logged, `"severity":"WARNING"`) || !strings.Contains(logged, "backend.internal") {
		t.Errorf("serving off the redirect URL's host after a move: want a WARNING naming the host, got %q", logged)
	}
	if r := b.get(b.consent(second.location(), demoEmail)); r.status != http.StatusFound || r.location() != "/listlabels" {
		t.Fatalf("callback through the proxy: %d %q, want 302 /listlabels", r.status, r.location())
	}

	// Without the proxy, the marker changes nothing: on the redirect URL's
	// host, a marked request is served without a warning.
	direct := e.newBrowser()
	e.useTransport(nil)
	before = e.logs.String()
	if r := direct.get("/oauth2init?moved=1"); r.status != http.StatusFound || !strings.HasPrefix(r.location(), e.googleURL) {
		t.Fatalf("marked request on the redirect URL's host: %d %q, want 302 to Google", r.status, r.location())
	}
	if logged := strings.TrimPrefix(e.logs.String(), before); strings.Contains(logged, "WARNING") {
		t.Errorf("a marked request on the redirect URL's host logged a warning: %q", logged)
	}
}

// TestCallbackRejectsAStateThatOnlyBeginsOrEndsLikeTheRightOne checks that
// the state is compared whole: a prefix of this browser's state, or the
// state with more after it, is refused with 4xx and no code exchange.
func TestCallbackRejectsAStateThatOnlyBeginsOrEndsLikeTheRightOne(t *testing.T) {
	tests := []struct {
		name  string
		alter func(state string) string
	}{
		{"all but the last character", func(s string) string { return s[:len(s)-1] }},
		{"half of it", func(s string) string { return s[:len(s)/2] }},
		{"its first character", func(s string) string { return s[:1] }},
		{"one character more", func(s string) string { return s + "A" }},
		{"its last half", func(s string) string { return s[len(s)/2:] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			b := e.newBrowser()
			callback := b.consent(b.startSignIn(), demoEmail)
			u, err := url.Parse(callback)
			if err != nil {
				t.Fatal(err)
			}
			state := u.Query().Get("state")
			if len(state) < 2 {
				t.Fatalf("state %q is too short to alter", state)
			}
			before := e.google.Stats().TokenRequests
			r := b.get(withQuery(callback, "state", tt.alter(state)))
			if r.status < 400 || r.status > 499 {
				t.Fatalf("status %d, want 4xx; body %q", r.status, r.body)
			}
			if n := e.google.Stats().TokenRequests - before; n != 0 {
				t.Fatalf("%d token requests, want none", n)
			}
			if c := r.cookie(sessionCookie); c != nil && c.MaxAge > 0 {
				t.Fatal("a session cookie was set")
			}
		})
	}
}
