package deploycheck

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/fakegoogle/fakegoogletest"
)

// TestBuildpackStyleBuildServesEachFunction builds what .gcloudignore uploads as Google's Go
// buildpack does (which proves the upload complete: nothing left behind is needed to build) and runs
// the program once per function, as Cloud Functions runs it: FUNCTION_TARGET and K_SERVICE set, the
// working directory holding the upload under serverless_function_source_code/, where the client
// secret is found with no CLIENT_SECRET_FILE.
func TestBuildpackStyleBuildServesEachFunction(t *testing.T) {
	t.Parallel()
	b := builtFunction(t)
	t.Logf("built %s with a generated %s/%s: %s", b.module, b.module, appPackageDir, strings.Join(b.steps, "; "))
	t.Logf("uploaded (%d files): %s", len(b.uploaded), strings.Join(b.uploaded, " "))
	if len(b.unused) > 0 {
		t.Logf("uploaded but not read by the build (a change to one redeploys every function all the same): %s", strings.Join(b.unused, " "))
	}

	opts := fakegoogle.Options{RedirectURIs: []string{redirectURI}}
	fake, google := fakegoogletest.NewServer(t, opts)
	workspace := newWorkspace(t, b)
	writeSecretFile(t, filepath.Join(workspace, sourceDirName, "client_secret.json"), fakegoogle.ClientSecretJSON(google.URL, opts))
	key := newCookieKey()
	configured := []string{
		"COOKIE_SECRET=" + key,
		// Google's APIs are the fake's here, so that no request can leave the machine.
		"GMAIL_ENDPOINT=" + google.URL,
		"REVOKE_URL=" + google.URL + fakegoogle.RevokePath,
	}
	client := noRedirects(&http.Client{})

	var mu sync.Mutex
	var cookieValues []string
	secrets := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append(append(fake.Secrets(), key), cookieValues...)
	}

	tests := []struct {
		function string
		method   string
		// problems lists what is wrong with the answer at "/", if anything.
		problems func(e exchange) []string
	}{
		{"oauth2init", http.MethodGet, func(e exchange) (problems []string) {
			authURL := google.URL + fakegoogle.AuthPath + "?"
			if e.status != http.StatusFound || !strings.HasPrefix(e.location(), authURL) {
				return []string{fmt.Sprintf("want 302 to the fake Google's authorization endpoint %s... (from %s/client_secret.json)", authURL, sourceDirName)}
			}
			if u, err := url.Parse(e.location()); err != nil || u.Query().Get("redirect_uri") != redirectURI {
				problems = append(problems, fmt.Sprintf("want redirect_uri=%s, the client secret's first redirect URI", redirectURI))
			}
			if c := e.cookie("__Host-gmail_login"); c == nil || !c.Secure || !c.HttpOnly || c.Path != "/" {
				problems = append(problems, "want a Secure, HttpOnly __Host-gmail_login cookie with Path=/, since the redirect URI is https")
			}
			return problems
		}},
		{"oauth2callback", http.MethodGet, func(e exchange) (problems []string) {
			if e.status < 400 || e.status > 499 {
				problems = append(problems, "want 4xx for a callback without state")
			}
			if e.cookie("__Host-gmail_session") != nil {
				problems = append(problems, "want no session cookie")
			}
			return problems
		}},
		{"listlabels", http.MethodGet, func(e exchange) []string {
			if e.status != http.StatusFound || e.location() != "/oauth2init" {
				return []string{"want 302 to /oauth2init without a session cookie"}
			}
			return nil
		}},
		{"signout", http.MethodGet, func(e exchange) []string {
			if e.status != http.StatusMethodNotAllowed || e.header.Get("Allow") != "POST" {
				return []string{"want 405 with Allow: POST"}
			}
			return nil
		}},
	}
	for _, tt := range tests {
		env := append(platformEnvironment(tt.function, tt.function), configured...)

		t.Run(tt.function, func(t *testing.T) {
			t.Parallel()
			p := launchFunction(t, b.binary, workspace, tt.function, env)
			p.mustBeServing(t)
			e := send(t, client, tt.method, p.url+"/", nil)
			mu.Lock()
			for _, c := range e.cookies {
				cookieValues = append(cookieValues, c.Value)
			}
			mu.Unlock()
			if problems := tt.problems(e); len(problems) > 0 {
				t.Errorf("%s at /: %s\ngot: %s\n%s", tt.function, strings.Join(problems, "; "), e, p.output())
			}
			p.mustBeServing(t)
			checkFunctionLogs(t, p, secrets())
		})

		t.Run(tt.function+" without COOKIE_SECRET", func(t *testing.T) {
			t.Parallel()
			p := launchFunction(t, b.binary, workspace, tt.function, environmentWithout(env, "COOKIE_SECRET"))
			method := http.MethodGet
			if tt.function == "signout" {
				method = http.MethodPost // its only method: a GET gets 405 before any configuration is read
			}
			if p.running() {
				e := send(t, client, method, p.url+"/", nil)
				if e.status < 500 {
					t.Errorf("deployed (K_SERVICE set) without COOKIE_SECRET, %s answered %d at /: want the process to exit non-zero or every request to get a 5xx\ngot: %s\n%s",
						tt.function, e.status, e, p.output())
				}
			} else if p.exitCode() == 0 {
				t.Errorf("deployed without COOKIE_SECRET, %s exited with code 0: want a non-zero exit or 5xx answers\n%s", tt.function, p.output())
			}
			checkFunctionLogs(t, p, secrets())
			if out := p.output(); !strings.Contains(out, "COOKIE_SECRET") {
				t.Errorf("deployed without COOKIE_SECRET, %s did not say so: want its output to name COOKIE_SECRET\n%s", tt.function, out)
			}
		})
	}
}

// TestBuildpackTidyNeedsNothingBeyondTheUploadedGoSum checks that the buildpack's go mod tidy over
// the upload only drops requirements (those of the packages and tests left behind): a requirement
// or checksum it added would be a module the build fetches unpinned by the repository's go.sum.
func TestBuildpackTidyNeedsNothingBeyondTheUploadedGoSum(t *testing.T) {
	t.Parallel()
	b := builtFunction(t)
	if len(b.tidied.modRemoved) > 0 {
		t.Logf("go mod tidy dropped, from the deployed go.mod, the requirements no uploaded package needs: %s", strings.Join(b.tidied.modRemoved, ", "))
	}
	if len(b.tidied.modAdded) > 0 {
		t.Errorf("go mod tidy added requirements to the uploaded go.mod: %s\nwant none: run go mod tidy in the repository", strings.Join(b.tidied.modAdded, ", "))
	}
	if len(b.tidied.sumAdded) > 0 {
		t.Errorf("go mod tidy added checksums the repository's go.sum lacks:\n%s\nwant none: run go mod tidy in the repository", strings.Join(b.tidied.sumAdded, "\n"))
	}
}
