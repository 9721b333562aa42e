package oauthgmail

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/fakegoogle/fakegoogletest"

	"example.com/gcf-oauth-gmail/internal/testhost"
)

// TestRegisteredFunctionsServeTheFlowThroughTheFramework configures the
// process environment as an operator would, starts functions-framework
// (which serves what init registered at /<name>), and signs in through it.
// It is the only test that uses the process-wide configuration.
func TestRegisteredFunctionsServeTheFlowThroughTheFramework(t *testing.T) {
	port := testhost.FreePort(t)
	base := "http://127.0.0.1:" + port
	opts := fakegoogle.Options{RedirectURIs: []string{base + "/oauth2callback"}}
	google, googleServer := fakegoogletest.NewServer(t, opts)
	t.Setenv("CLIENT_SECRET_JSON", string(fakegoogle.ClientSecretJSON(googleServer.URL, opts)))
	t.Setenv("REDIRECT_URL", base+"/oauth2callback")
	t.Setenv("COOKIE_SECRET", testKey)
	t.Setenv("GMAIL_ENDPOINT", googleServer.URL)
	t.Setenv("REVOKE_URL", googleServer.URL+fakegoogle.RevokePath)
	t.Setenv("FUNCTION_TARGET", "")
	if err := LoadConfiguration(); err != nil {
		t.Fatalf("LoadConfiguration: %v", err)
	}
	go func() { _ = funcframework.StartHostPort("127.0.0.1", port) }() // runs until the test binary exits
	testhost.WaitListening(t, port)

	e := &testEnv{t: t, google: google, googleURL: googleServer.URL, server: nil}
	b := e.newBrowser()
	b.base = base
	b.signIn(demoEmail)
	if r := b.get("/listlabels"); r.status != http.StatusOK || !strings.Contains(r.body, "label(s) found") {
		t.Fatalf("listlabels through the framework: status %d", r.status)
	}
	if r := b.do(http.MethodPost, "/signout", sameOrigin); r.status != http.StatusSeeOther || r.location() != "/signout" || e.google.Stats().Revocations != 1 {
		t.Fatalf("signout through the framework: status %d location %q, %d revocations; want 303 to /signout and 1", r.status, r.location(), e.google.Stats().Revocations)
	}
	if r := b.do(http.MethodDelete, "/listlabels", nil); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE through the framework: status %d, want 405", r.status)
	}
}

func TestConfigurationProblemLogsOnceAndAnswers500(t *testing.T) {
	var logs bytes.Buffer
	env := map[string]string{"K_SERVICE": "listlabels", "REDIRECT_URL": "https://r-p.cloudfunctions.net/oauth2callback",
		"CLIENT_SECRET_JSON": `{"web":{"client_id":"id","client_secret":"s3cr3t-value","auth_uri":"https://a/","token_uri":"https://b/"}}`}
	_, err := appFromEnvironment(func(k string) string { return env[k] }, nil, &logs)
	if err == nil || !strings.Contains(err.Error(), "COOKIE_SECRET") {
		t.Fatalf("error = %v, want one naming COOKIE_SECRET", err)
	}
	checkLogLines(t, logs.String(), []string{"s3cr3t-value"})
	if n := strings.Count(strings.TrimSpace(logs.String()), "\n") + 1; n != 1 || !strings.Contains(logs.String(), `"severity":"ERROR"`) {
		t.Fatalf("want exactly one ERROR line, got %q", logs.String())
	}
	rec := newRecorder()
	writeConfigurationProblem(rec)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "COOKIE_SECRET") || strings.Contains(rec.Body.String(), "s3cr3t") {
		t.Fatalf("status %d body %q; want 500 naming neither the variable nor the secret", rec.Code, rec.Body.String())
	}
}

func TestLocalRunWithoutCookieSecretWarns(t *testing.T) {
	var logs bytes.Buffer
	env := map[string]string{"CLIENT_SECRET_JSON": `{"installed":{"client_id":"id","client_secret":"s3cr3t-value","auth_uri":"https://a/","token_uri":"https://b/"}}`}
	if _, err := appFromEnvironment(func(k string) string { return env[k] }, nil, &logs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"severity":"WARNING"`) || !strings.Contains(logs.String(), "COOKIE_SECRET") {
		t.Fatalf("want a WARNING about COOKIE_SECRET, got %q", logs.String())
	}
	checkLogLines(t, logs.String(), []string{"s3cr3t-value"})
}
