package config_test

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"example.com/gcf-oauth-gmail/internal/config"
)

const webClient = `{"web":{"client_id":"id-123.apps.googleusercontent.com","client_secret":"very-secret-value",
"auth_uri":"https://accounts.example.test/o/oauth2/auth","token_uri":"https://oauth2.example.test/token",
"redirect_uris":["https://r-p.cloudfunctions.net/oauth2callback","http://localhost:8080/oauth2callback"]}}`

const installedClient = `{"installed":{"client_id":"id-9","client_secret":"s3cr3t","auth_uri":"https://a.test/auth","token_uri":"https://a.test/token"}}`

var (
	goodKey     = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	previousKey = base64.RawURLEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
)

// env builds a getenv from pairs.
func env(pairs map[string]string) func(string) string {
	return func(k string) string { return pairs[k] }
}

// files builds a readFile over an in-memory set of files.
func files(contents map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if c, ok := contents[name]; ok {
			return []byte(c), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
}

func TestLoadReadsEverySetting(t *testing.T) {
	s, err := config.Load(env(map[string]string{
		"CLIENT_SECRET_FILE":     "/secrets/cs.json",
		"REDIRECT_URL":           "https://r-p.cloudfunctions.net/oauth2callback",
		"COOKIE_SECRET":          goodKey,
		"GMAIL_ENDPOINT":         "https://gmail.emulator.test:9999/",
		"GOOGLE_API_ENDPOINT":    "https://apis.emulator.test:8888",
		"REVOKE_URL":             "https://gmail.emulator.test:9999/revoke",
		"COOKIE_SECRET_PREVIOUS": previousKey,
		"ACCESS_TYPE":            "offline",
		"UPSTREAM_TIMEOUT":       "3s",
		"K_SERVICE":              "listlabels",
	}), files(map[string]string{"/secrets/cs.json": webClient}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"client id", s.OAuth.ClientID, "id-123.apps.googleusercontent.com"},
		{"auth url", s.OAuth.Endpoint.AuthURL, "https://accounts.example.test/o/oauth2/auth"},
		{"token url", s.OAuth.Endpoint.TokenURL, "https://oauth2.example.test/token"},
		{"redirect", s.OAuth.RedirectURL, "https://r-p.cloudfunctions.net/oauth2callback"},
		{"parsed redirect", s.Redirect.Host, "r-p.cloudfunctions.net"},
		{"secure", s.Secure, true},
		{"deployed", s.Deployed, true},
		{"key", string(s.CookieKey), "0123456789abcdef0123456789abcdef"},
		{"generated", s.CookieKeyGenerated, false},
		{"previous key", string(s.PreviousCookieKey), "fedcba9876543210fedcba9876543210"},
		{"gmail", s.Endpoints["gmail.googleapis.com"].String(), "https://gmail.emulator.test:9999"},
		{"any google api", s.AnyGoogleAPI.String(), "https://apis.emulator.test:8888"},
		{"revoke", s.RevokeURL, "https://gmail.emulator.test:9999/revoke"},
		{"access type", s.AccessType, "offline"},
		{"timeout", s.UpstreamTimeout.String(), "3s"},
		{"file", s.ClientSecretFile, "/secrets/cs.json"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		files        map[string]string
		wantFile     string
		wantRedirect string
	}{
		{"working directory first", nil,
			map[string]string{"client_secret.json": webClient, filepath.Join("serverless_function_source_code", "client_secret.json"): installedClient},
			"client_secret.json", "https://r-p.cloudfunctions.net/oauth2callback"},
		{"then the Cloud Functions source directory", nil,
			map[string]string{filepath.Join("serverless_function_source_code", "client_secret.json"): webClient},
			filepath.Join("serverless_function_source_code", "client_secret.json"), "https://r-p.cloudfunctions.net/oauth2callback"},
		{"installed client without redirect uris uses PORT", map[string]string{"PORT": "9090"},
			map[string]string{"client_secret.json": installedClient},
			"client_secret.json", "http://localhost:9090/oauth2callback"},
		{"no PORT means 8080", nil,
			map[string]string{"client_secret.json": installedClient},
			"client_secret.json", "http://localhost:8080/oauth2callback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := config.Load(env(tt.env), files(tt.files))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if s.ClientSecretFile != tt.wantFile || s.OAuth.RedirectURL != tt.wantRedirect {
				t.Fatalf("file %q redirect %q; want %q %q", s.ClientSecretFile, s.OAuth.RedirectURL, tt.wantFile, tt.wantRedirect)
			}
			if !s.CookieKeyGenerated || len(s.CookieKey) != 32 {
				t.Fatalf("want a generated 32-byte key locally, got generated=%v len=%d", s.CookieKeyGenerated, len(s.CookieKey))
			}
			if len(s.Endpoints) != 0 || s.AnyGoogleAPI != nil || s.PreviousCookieKey != nil || s.RevokeURL != config.DefaultRevokeURL ||
				s.AccessType != "online" || s.UpstreamTimeout != config.DefaultTimeout || s.Secure != strings.HasPrefix(tt.wantRedirect, "https") {
				t.Fatalf("defaults wrong: %+v", s)
			}
		})
	}
}

func TestLoadComparesTheRedirectSchemeWithoutRegardToCase(t *testing.T) {
	tests := []struct {
		redirect   string
		deployed   bool
		wantSecure bool
		wantErr    bool
	}{
		{"https://r-p.cloudfunctions.net/oauth2callback", true, true, false},
		{"HTTPS://r-p.cloudfunctions.net/oauth2callback", true, true, false},
		{"Https://r-p.cloudfunctions.net/oauth2callback", false, true, false},
		{"http://localhost:8080/oauth2callback", false, false, false},
		{"HTTP://localhost:8080/oauth2callback", false, false, false},
		{"HTTP://r-p.cloudfunctions.net/oauth2callback", true, false, true},
		{"https-not://r-p.cloudfunctions.net/oauth2callback", false, false, true},
	}
	for _, tt := range tests {
		vars := map[string]string{"REDIRECT_URL": tt.redirect, "COOKIE_SECRET": goodKey}
		if tt.deployed {
			vars["K_SERVICE"] = "oauth2init"
		}
		s, err := config.Load(env(vars), files(map[string]string{"client_secret.json": webClient}))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s (deployed %v): error %v, want error %v", tt.redirect, tt.deployed, err, tt.wantErr)
			continue
		}
		if err == nil && (s.Secure != tt.wantSecure || s.OAuth.RedirectURL != tt.redirect) {
			t.Errorf("%s: secure %v, redirect sent as %q; want secure %v and the URL exactly as configured", tt.redirect, s.Secure, s.OAuth.RedirectURL, tt.wantSecure)
		}
	}
}

func TestLoadAcceptsEveryBase64FormOfTheCookieKey(t *testing.T) {
	raw := []byte("\xfb\xff0123456789abcdef0123456789abcd")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		s, err := config.Load(env(map[string]string{"COOKIE_SECRET": enc.EncodeToString(raw) + "\n"}), files(map[string]string{"client_secret.json": webClient}))
		if err != nil || string(s.CookieKey) != string(raw) {
			t.Errorf("%v: key %x, err %v", enc, s.CookieKey, err)
		}
	}
}

func TestLoadReportsProblemsWithoutSecrets(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		files        map[string]string
		wantVariable string
	}{
		{"no client secret file", nil, nil, "client_secret.json"},
		{"named file missing", map[string]string{"CLIENT_SECRET_FILE": "/nope.json"}, nil, "/nope.json"},
		{"not json", nil, map[string]string{"client_secret.json": `{"web":{"client_secret":"very-secret-value"`}, "client_secret.json"},
		{"neither web nor installed", nil, map[string]string{"client_secret.json": `{"other":{}}`}, "client_secret.json"},
		{"no client secret field", nil, map[string]string{"client_secret.json": `{"web":{"client_id":"x","auth_uri":"https://a/","token_uri":"https://b/"}}`}, "client_secret.json"},
		{"token uri not a URL", nil, map[string]string{"client_secret.json": `{"web":{"client_id":"x","client_secret":"very-secret-value","auth_uri":"https://a/","token_uri":"very-secret-value"}}`}, "client_secret.json"},
		{"deployed without cookie key", map[string]string{"K_SERVICE": "oauth2init"}, map[string]string{"client_secret.json": webClient}, "COOKIE_SECRET"},
		{"short cookie key", map[string]string{"COOKIE_SECRET": base64.StdEncoding.EncodeToString([]byte("very-secret-value"))}, map[string]string{"client_secret.json": webClient}, "COOKIE_SECRET"},
		{"cookie key not base64", map[string]string{"COOKIE_SECRET": "very-secret-value!!"}, map[string]string{"client_secret.json": webClient}, "COOKIE_SECRET"},
		{"relative redirect", map[string]string{"REDIRECT_URL": "/oauth2callback"}, map[string]string{"client_secret.json": webClient}, "REDIRECT_URL"},
		{"redirect with fragment", map[string]string{"REDIRECT_URL": "https://x/cb#f"}, map[string]string{"client_secret.json": webClient}, "REDIRECT_URL"},
		{"bad access type", map[string]string{"ACCESS_TYPE": "forever"}, map[string]string{"client_secret.json": webClient}, "ACCESS_TYPE"},
		{"bad gmail endpoint", map[string]string{"GMAIL_ENDPOINT": "gmail"}, map[string]string{"client_secret.json": webClient}, "GMAIL_ENDPOINT"},
		{"bad google api endpoint", map[string]string{"GOOGLE_API_ENDPOINT": "ftp://x"}, map[string]string{"client_secret.json": webClient}, "GOOGLE_API_ENDPOINT"},
		{"short previous cookie key", map[string]string{"COOKIE_SECRET_PREVIOUS": base64.StdEncoding.EncodeToString([]byte("very-secret-value"))}, map[string]string{"client_secret.json": webClient}, "COOKIE_SECRET_PREVIOUS"},
		{"deployed with an http redirect", map[string]string{"K_SERVICE": "oauth2init", "COOKIE_SECRET": goodKey, "REDIRECT_URL": "http://r-p.cloudfunctions.net/oauth2callback"}, map[string]string{"client_secret.json": webClient}, "REDIRECT_URL"},
		{"deployed with the default local redirect", map[string]string{"K_SERVICE": "oauth2init", "COOKIE_SECRET": goodKey}, map[string]string{"client_secret.json": installedClient}, "REDIRECT_URL"},
		{"deployed with an http redirect from the file", map[string]string{"K_SERVICE": "oauth2init", "COOKIE_SECRET": goodKey},
			map[string]string{"client_secret.json": strings.Replace(webClient, `"https://r-p`, `"http://r-p`, 1)}, "redirect_uris[0]"},
		{"bad timeout", map[string]string{"UPSTREAM_TIMEOUT": "forever"}, map[string]string{"client_secret.json": webClient}, "UPSTREAM_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(env(tt.env), files(tt.files))
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load error = %v, want a *config.Error", err)
			}
			if !strings.Contains(cerr.Variable, tt.wantVariable) {
				t.Errorf("error names %q, want %q", cerr.Variable, tt.wantVariable)
			}
			if strings.Contains(err.Error(), "very-secret-value") || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error message leaks a secret: %v", err)
			}
		})
	}
}

func TestLoadReportsUnreadableFile(t *testing.T) {
	readFile := func(name string) ([]byte, error) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	_, err := config.Load(env(nil), readFile)
	if err == nil || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), "client_secret.json") {
		t.Fatalf("Load error = %v, want one naming the file and the reason", err)
	}
}

func FuzzLoadClientSecretFile(f *testing.F) {
	f.Add(webClient)
	f.Add(installedClient)
	f.Add(`{"web":null}`)
	f.Add(`{"web":{"redirect_uris":[1]}}`)
	f.Add("")
	f.Fuzz(func(t *testing.T, content string) {
		s, err := config.Load(env(nil), files(map[string]string{"client_secret.json": content}))
		if err != nil {
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			return
		}
		if s.OAuth == nil || s.OAuth.ClientID == "" || s.OAuth.RedirectURL == "" {
			t.Fatalf("Load accepted a client secret without id or redirect: %+v", s.OAuth)
		}
	})
}
