package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"example.com/gcf-oauth-gmail/internal/config"
)

// googleClient is a client secret file as Google issues it: its endpoints
// are Google's, so they are not overrides.
const googleClient = `{"web":{"client_id":"id-1.apps.googleusercontent.com","client_secret":"very-secret-value",
"auth_uri":"https://accounts.google.com/o/oauth2/auth","token_uri":"https://oauth2.googleapis.com/token",
"redirect_uris":["https://r-p.cloudfunctions.net/oauth2callback"]}}`

// clientWith is googleClient with one endpoint replaced.
func clientWith(field, value string) string {
	old := map[string]string{"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token"}[field]
	return strings.Replace(googleClient, `"`+field+`":"`+old+`"`, `"`+field+`":"`+value+`"`, 1)
}

func TestDeployedGoogleEndpointsMustBeHTTPS(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		client       string
		wantVariable string // the setting a problem names; "" when the settings are accepted
		wantMention  string // what else the problem says
	}{
		{"GMAIL_ENDPOINT over http", map[string]string{"GMAIL_ENDPOINT": "http://gmail.example.test"}, googleClient, "GMAIL_ENDPOINT", "https"},
		{"GOOGLE_API_ENDPOINT over http", map[string]string{"GOOGLE_API_ENDPOINT": "http://127.0.0.1:8888"}, googleClient, "GOOGLE_API_ENDPOINT", "https"},
		{"REVOKE_URL over http", map[string]string{"REVOKE_URL": "http://revoke.example.test/revoke"}, googleClient, "REVOKE_URL", "https"},
		{"REVOKE_URL over HTTP in capitals", map[string]string{"REVOKE_URL": "HTTP://revoke.example.test/revoke"}, googleClient, "REVOKE_URL", "https"},
		{"token_uri over http", nil, clientWith("token_uri", "http://oauth2.googleapis.com/token"), "client_secret.json", "token_uri"},
		{"auth_uri over http", nil, clientWith("auth_uri", "http://accounts.google.com/o/oauth2/auth"), "client_secret.json", "auth_uri"},
		{"token_uri over http in CLIENT_SECRET_JSON", map[string]string{"CLIENT_SECRET_JSON": clientWith("token_uri", "http://evil.example.test/token")}, "", "CLIENT_SECRET_JSON", "token_uri"},
		{"every override over https", map[string]string{
			"GMAIL_ENDPOINT": "https://gmail.example.test", "GOOGLE_API_ENDPOINT": "https://apis.example.test", "REVOKE_URL": "https://revoke.example.test/revoke",
		}, clientWith("token_uri", "https://token.example.test/token"), "", ""},
		{"https in capitals", map[string]string{"GMAIL_ENDPOINT": "HTTPS://gmail.example.test", "REVOKE_URL": "HtTpS://revoke.example.test/revoke"}, googleClient, "", ""},
		{"Google's own endpoints", nil, googleClient, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"K_SERVICE": "oauth2init", "COOKIE_SECRET": goodKey}
			for k, v := range tt.env {
				vars[k] = v
			}
			_, err := config.Load(env(vars), files(map[string]string{"client_secret.json": tt.client}))
			if tt.wantVariable == "" {
				if err != nil {
					t.Fatalf("Load: %v, want the settings accepted", err)
				}
				return
			}
			var cerr *config.Error
			if !errors.As(err, &cerr) || cerr.Variable != tt.wantVariable || !strings.Contains(cerr.Problem, tt.wantMention) {
				t.Fatalf("Load: %v, want a problem with %s that mentions %q", err, tt.wantVariable, tt.wantMention)
			}
			if strings.Contains(err.Error(), "very-secret-value") {
				t.Fatalf("the problem quotes the client secret: %v", err)
			}

			// The same settings are accepted on a developer's machine,
			// where emulators listen on plain http.
			delete(vars, "K_SERVICE")
			if _, err := config.Load(env(vars), files(map[string]string{"client_secret.json": tt.client})); err != nil {
				t.Fatalf("locally, Load: %v, want the settings accepted", err)
			}
		})
	}
}

func TestOverridesListEveryReplacedGoogleEndpoint(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		client string
		want   []config.Override
	}{
		{"none: Google's endpoints", nil, googleClient, nil},
		{"an older file of Google's", nil, clientWith("token_uri", "https://accounts.google.com/o/oauth2/token"), nil},
		{"every variable", map[string]string{
			"GMAIL_ENDPOINT": "http://127.0.0.1:9000/", "GOOGLE_API_ENDPOINT": "http://127.0.0.1:9001", "REVOKE_URL": "http://127.0.0.1:9002/revoke",
		}, googleClient, []config.Override{
			{Setting: "GMAIL_ENDPOINT", URL: "http://127.0.0.1:9000"},
			{Setting: "GOOGLE_API_ENDPOINT", URL: "http://127.0.0.1:9001"},
			{Setting: "REVOKE_URL", URL: "http://127.0.0.1:9002/revoke"},
		}},
		{"the client secret file's endpoints", nil,
			clientWith("auth_uri", "http://127.0.0.1:9000/o/oauth2/auth"), []config.Override{{Setting: "auth_uri", URL: "http://127.0.0.1:9000/o/oauth2/auth"}}},
		{"a query is left out", map[string]string{"REVOKE_URL": "http://127.0.0.1:9002/revoke?key=abc123"}, googleClient,
			[]config.Override{{Setting: "REVOKE_URL", URL: "http://127.0.0.1:9002/revoke"}}},
		{"REVOKE_URL set to Google's own", map[string]string{"REVOKE_URL": config.DefaultRevokeURL}, googleClient, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := config.Load(env(tt.env), files(map[string]string{"client_secret.json": tt.client}))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !slices.Equal(s.Overrides, tt.want) {
				t.Fatalf("Overrides = %v, want %v", s.Overrides, tt.want)
			}
		})
	}
}
