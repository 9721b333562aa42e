package deploycheck

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	oauthgmail "example.com/gcf-oauth-gmail"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/fakegoogle/fakegoogletest"
)

// TestBuildpackBuildServesEveryFunction builds what .gcloudignore uploads as Google's Go buildpack
// does (which proves the upload complete: go mod tidy checks every uploaded package, go build the
// program) and runs the program once per function of Functions(), as Cloud Functions runs it: in a
// copy of the image's working directory, with the platform's variables (FUNCTION_TARGET, K_SERVICE,
// K_REVISION, PORT...) and the settings deploy.sh --dry-run gives the function, its client secret a
// file mounted outside the source that CLIENT_SECRET_FILE names. Requests come as Google's front
// end passes them on: Host the public one, X-Forwarded-Proto https.
func TestBuildpackBuildServesEveryFunction(t *testing.T) {
	t.Parallel()
	b := builtFunction(t)
	t.Logf("built %s with a generated %s/%s: %s", b.module, b.module, appPackageDir, strings.Join(b.steps, "; "))
	t.Logf("uploaded (%d files): %s", len(b.uploaded), strings.Join(b.uploaded, " "))
	if len(b.unused) > 0 {
		t.Logf("uploaded but not read by the build (a change to one redeploys every function all the same): %s", strings.Join(b.unused, " "))
	}
	if secrets := clientSecretFiles(t, b.workspace); len(secrets) > 0 {
		t.Errorf("the image's working directory holds %s: want the client secret only where deploy.sh mounts it", strings.Join(secrets, " "))
	}

	deployments := deploymentsOfDryRun(t)
	opts := fakegoogle.Options{RedirectURIs: []string{redirectURI}}
	fake, google := fakegoogletest.NewServer(t, opts)
	key := newCookieKey()
	secretManager := map[string][]byte{
		clientSecretName: fakegoogle.ClientSecretJSON(google.URL, opts),
		cookieKeyName:    []byte(key),
	}
	publicHost := http.Header{"Host": {strings.TrimPrefix(baseURL, "https://")}, "X-Forwarded-Proto": {"https"}}
	client := noRedirects(&http.Client{})

	var mu sync.Mutex
	var cookieValues []string
	secrets := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append(append(fake.Secrets(), key), cookieValues...)
	}

	// Each function gets the request its page or link sends; problems lists what is wrong with the
	// answer, if anything.
	type request struct {
		method   string
		header   http.Header
		problems func(e exchange) []string
	}
	requests := map[string]request{
		"oauth2init": {http.MethodGet, publicHost, func(e exchange) (problems []string) {
			authURL := google.URL + fakegoogle.AuthPath + "?"
			if e.status != http.StatusFound || !strings.HasPrefix(e.location(), authURL) {
				return []string{fmt.Sprintf("want 302 to the fake Google's authorization endpoint %s... (from the mounted client secret)", authURL)}
			}
			if u, err := url.Parse(e.location()); err != nil || u.Query().Get("redirect_uri") != redirectURI {
				problems = append(problems, fmt.Sprintf("want redirect_uri=%s, deploy.sh's REDIRECT_URL", redirectURI))
			}
			if c := e.cookie("__Host-gmail_login"); c == nil || !c.Secure || !c.HttpOnly || c.Path != "/" {
				problems = append(problems, "want a Secure, HttpOnly __Host-gmail_login cookie with Path=/, since the redirect URI is https")
			}
			return problems
		}},
		"oauth2callback": {http.MethodGet, publicHost, func(e exchange) (problems []string) {
			if e.status < 400 || e.status > 499 {
				problems = append(problems, "want 4xx for a callback without state")
			}
			if e.cookie("__Host-gmail_session") != nil {
				problems = append(problems, "want no session cookie")
			}
			return problems
		}},
		"listlabels": {http.MethodGet, publicHost, func(e exchange) []string {
			if e.status != http.StatusFound || e.location() != "/oauth2init" {
				return []string{"want 302 to /oauth2init without a session cookie"}
			}
			return nil
		}},
		// The sign-out button's POST, from a page of the app: same origin, no session.
		"signout": {http.MethodPost, withHeader(publicHost, "Origin", baseURL), func(e exchange) []string {
			if e.status != http.StatusOK && e.status != http.StatusSeeOther {
				return []string{"want 200 (the signed-out page) or 303 (to it) for a same-origin POST; the Host and X-Forwarded-Proto of the front end make the origin"}
			}
			return nil
		}},
	}
	anyAnswer := request{http.MethodGet, publicHost, func(e exchange) []string {
		if e.status >= 500 {
			return []string{"want an answer below 500"}
		}
		return nil
	}}
	names := functionNamesOfTheApp()
	for name := range requests {
		if !slices.Contains(names, name) {
			t.Errorf("this test checks the function %s, which Functions() no longer lists", name)
		}
	}

	for _, name := range names {
		d, ok := deployments[name]
		if !ok {
			t.Errorf("deploy.sh --dry-run deploys no function %s, which Functions() lists", name)
			continue
		}
		req, ok := requests[name]
		if !ok {
			req = anyAnswer
		}
		// Google's APIs are the fake's here, so that no request can leave the machine.
		env := append(d.environment(t, baseURL, secretManager), "GMAIL_ENDPOINT="+google.URL, "REVOKE_URL="+google.URL+fakegoogle.RevokePath)

		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := launchFunction(t, b.binary, newWorkspace(t, b), name, env)
			p.mustBeServing(t)
			e := send(t, client, req.method, p.url+"/", req.header)
			mu.Lock()
			for _, c := range e.cookies {
				cookieValues = append(cookieValues, c.Value)
			}
			mu.Unlock()
			if problems := req.problems(e); len(problems) > 0 {
				t.Errorf("%s at /: %s\ngot: %s\n%s", name, strings.Join(problems, "; "), e, p.output())
			}
			p.mustBeServing(t)
			checkFunctionLogs(t, p, secrets())
		})

		t.Run(name+" without COOKIE_SECRET", func(t *testing.T) {
			t.Parallel()
			p := launchFunction(t, b.binary, newWorkspace(t, b), name, environmentWithout(env, "COOKIE_SECRET"))
			if p.running() {
				e := send(t, client, req.method, p.url+"/", req.header)
				if e.status < 500 {
					t.Errorf("deployed (K_SERVICE set) without COOKIE_SECRET, %s answered %d at /: want the process to exit non-zero or every request to get a 5xx\ngot: %s\n%s",
						name, e.status, e, p.output())
				}
			} else if p.exitCode() == 0 {
				t.Errorf("deployed without COOKIE_SECRET, %s exited with code 0: want a non-zero exit or 5xx answers\n%s", name, p.output())
			}
			checkFunctionLogs(t, p, secrets())
			if out := p.output(); !strings.Contains(out, "COOKIE_SECRET") {
				t.Errorf("deployed without COOKIE_SECRET, %s did not say so: want its output to name COOKIE_SECRET\n%s", name, out)
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

// withHeader returns a copy of h with name set to value.
func withHeader(h http.Header, name, value string) http.Header {
	c := h.Clone()
	c.Set(name, value)
	return c
}

// functionNamesOfTheApp lists the names of Functions(): what deploy.sh deploys, one function each.
func functionNamesOfTheApp() []string {
	var names []string
	for _, f := range oauthgmail.Functions() {
		names = append(names, f.Name)
	}
	return names
}

// clientSecretFiles lists the files under dir named as Google names a client secret download.
func clientSecretFiles(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "client_secret") && strings.HasSuffix(d.Name(), ".json") {
			rel, _ := filepath.Rel(dir, p)
			found = append(found, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
