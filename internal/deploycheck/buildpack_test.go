package deploycheck

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	oauthgmail "example.com/gcf-oauth-gmail"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/fakegoogle/fakegoogletest"
	"example.com/gcf-oauth-gmail/internal/testhost"
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
	// Deployed, every Google endpoint must be https: the fake serves
	// https, and the functions trust its certificate through SSL_CERT_FILE.
	fake, google, googleCert := fakegoogletest.NewTLSServer(t, opts)
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
			if c := e.cookie("__Host-oauth_login"); c == nil || !c.Secure || !c.HttpOnly || c.Path != "/" {
				problems = append(problems, "want a Secure, HttpOnly __Host-oauth_login cookie with Path=/, since the redirect URI is https")
			}
			return problems
		}},
		"oauth2callback": {http.MethodGet, publicHost, func(e exchange) (problems []string) {
			if e.status < 400 || e.status > 499 {
				problems = append(problems, "want 4xx for a callback without state")
			}
			if e.cookie("__Host-oauth_session") != nil {
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
		env := append(d.environment(t, baseURL, secretManager), "GMAIL_ENDPOINT="+google.URL, "REVOKE_URL="+google.URL+fakegoogle.RevokePath,
			"SSL_CERT_FILE="+googleCert)

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

// TestBuildpackBuildFailsAtTidyWhenTheUploadMissesAnImportedPackage shows that the build fails as
// the buildpack's does when .gcloudignore leaves behind a package that an uploaded package imports:
// at go mod tidy, which loads every package of the module, with a message naming both packages.
// The control, the same upload with the missing packages, builds.
func TestBuildpackBuildFailsAtTidyWhenTheUploadMissesAnImportedPackage(t *testing.T) {
	t.Parallel()
	root := testhost.RepoRoot(t)
	git := gitForGcloudignore(t)
	goTool := goCommandPath(t)
	rules, err := os.ReadFile(filepath.Join(root, ".gcloudignore"))
	if err != nil {
		t.Fatal(err)
	}
	module := moduleOf(t, root)
	upload := func(t *testing.T, rules []byte) []string {
		t.Helper()
		files, err := uploadedFiles(root, git, rules)
		if err != nil {
			t.Fatal(err)
		}
		return files
	}

	withCmd := withoutRule(t, rules, "/cmd/")
	cmdImports := moduleImports(t, root, "cmd", module)
	t.Run("cmd/ uploaded without a package it imports", func(t *testing.T) {
		t.Parallel()
		files := upload(t, withCmd)
		missing := notUploaded(cmdImports, files)
		if len(missing) == 0 {
			t.Skip("cmd/ imports no package that .gcloudignore leaves behind")
		}
		_, err := buildLikeBuildpack(root, files, t.TempDir(), goTool)
		wantTidyToMiss(t, err, module+"/cmd", module+"/"+missing[0])
	})

	t.Run("cmd/ uploaded with the packages it imports", func(t *testing.T) {
		t.Parallel()
		withAll := withCmd
		for _, dir := range notUploaded(cmdImports, upload(t, withCmd)) {
			withAll = fmt.Appendf(slices.Clip(withAll), "\n!/%s/\n", dir)
		}
		files := upload(t, withAll)
		if missing := notUploaded(cmdImports, files); len(missing) > 0 {
			t.Fatalf("re-including %s did not upload it; the control needs it", strings.Join(missing, ", "))
		}
		if _, err := buildLikeBuildpack(root, files, t.TempDir(), goTool); err != nil {
			t.Errorf("the upload with cmd/ and every package it imports did not build: %v", err)
		}
	})

	t.Run("the function package without a package it imports", func(t *testing.T) {
		t.Parallel()
		imports := moduleImports(t, root, ".", module)
		if len(imports) == 0 {
			t.Skip("the function package imports no package of its module")
		}
		dropped := imports[0]
		files := upload(t, fmt.Appendf(slices.Clip(rules), "\n/%s/\n", dropped))
		if missing := notUploaded(imports, files); !slices.Contains(missing, dropped) {
			t.Fatalf("the rule /%s/ did not leave %s behind", dropped, dropped)
		}
		_, err := buildLikeBuildpack(root, files, t.TempDir(), goTool)
		wantTidyToMiss(t, err, module, module+"/"+dropped)
	})
}

// wantTidyToMiss checks that err is the build's go mod tidy failing because importer imports
// missing, a package the upload lacks, in the go command's words.
func wantTidyToMiss(t *testing.T, err error, importer, missing string) {
	t.Helper()
	var step *stepError
	if !errors.As(err, &step) || step.step != "go mod tidy" {
		t.Fatalf("building an upload without %s: got %v, want go mod tidy to fail", missing, err)
	}
	for _, want := range []string{importer + " imports\n\t" + missing + ": ", "cannot find module providing package " + missing} {
		if !strings.Contains(step.output, want) {
			t.Errorf("go mod tidy failed without saying %q:\n%s", want, step.output)
		}
	}
	t.Logf("as the buildpack's would, the build failed at %s", err)
}

// withoutRule returns rules less the line rule, which must be there.
func withoutRule(t *testing.T, rules []byte, rule string) []byte {
	t.Helper()
	lines := strings.Split(string(rules), "\n")
	kept := slices.DeleteFunc(slices.Clone(lines), func(line string) bool { return strings.TrimSpace(line) == rule })
	if len(kept) == len(lines) {
		t.Fatalf(".gcloudignore has no line %s; this test leaves it out to upload more", rule)
	}
	return []byte(strings.Join(kept, "\n"))
}

var moduleLine = regexp.MustCompile(`(?m)^module\s+(\S+)`)

// moduleOf is the module path of root's go.mod.
func moduleOf(t *testing.T, root string) string {
	t.Helper()
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := moduleLine.FindSubmatch(goMod)
	if m == nil {
		t.Fatal("go.mod has no module line")
	}
	return string(m[1])
}

// moduleImports lists, sorted, the packages of module that the package in root/dir imports, as
// slash-separated directories relative to root. Test files do not count.
func moduleImports(t *testing.T, root, dir, module string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(dir), "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var imports []string
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rel, ok := strings.CutPrefix(p, module+"/"); ok && !slices.Contains(imports, rel) {
				imports = append(imports, rel)
			}
		}
	}
	slices.Sort(imports)
	return imports
}

// notUploaded returns the package directories of dirs that hold no uploaded .go file.
func notUploaded(dirs, uploaded []string) []string {
	var missing []string
	for _, dir := range dirs {
		if !slices.ContainsFunc(uploaded, func(name string) bool { return path.Dir(name) == dir && path.Ext(name) == ".go" }) {
			missing = append(missing, dir)
		}
	}
	return missing
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
