package oauthgmail

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"strings"
	"testing"
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
			writeConfigurationProblem(rec)
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
