package deploycheck

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/fakegoogle/fakegoogletest"
)

// TestDeployedTopologyCompletesTheFlowOverHTTPS runs the functions as deploy.sh deploys them
// (separate instances that share nothing but the cookie key, each configured from the flags of
// deploy.sh --dry-run) behind an HTTPS front end that routes https://HOST/<function> to the
// function's "/", as https://REGION-PROJECT.cloudfunctions.net does, and signs in through it.
func TestDeployedTopologyCompletesTheFlowOverHTTPS(t *testing.T) {
	t.Parallel()
	b := builtFunction(t)
	deployments := deploymentsOfDryRun(t)

	gw := newGateway(t)
	opts := fakegoogle.Options{RedirectURIs: []string{gw.url() + "/oauth2callback"}}
	// Deployed, every Google endpoint must be https: the fake serves
	// https, and the functions trust its certificate through SSL_CERT_FILE.
	fake, google, googleCert := fakegoogletest.NewTLSServer(t, opts)
	key := newCookieKey()
	secretManager := map[string][]byte{
		clientSecretName: fakegoogle.ClientSecretJSON(google.URL, opts),
		cookieKeyName:    []byte(key),
	}
	start := func(d deployment, secrets map[string][]byte) *functionProcess {
		env := d.environment(t, gw.url(), secrets)
		// Google's APIs are the fake's: the only settings a deployment does not have.
		env = append(env, "GMAIL_ENDPOINT="+google.URL, "REVOKE_URL="+google.URL+fakegoogle.RevokePath,
			"SSL_CERT_FILE="+googleCert)
		p := launchFunction(t, b.binary, newWorkspace(t, b), d.name, env)
		p.mustBeServing(t)
		return p
	}
	var processes []*functionProcess
	for _, name := range functionNames {
		d, ok := deployments[name]
		if !ok {
			t.Fatalf("deploy.sh --dry-run deploys no function %s; the flow needs it", name)
		}
		p := start(d, secretManager)
		gw.route(name, p)
		processes = append(processes, p)
	}
	// A listlabels instance under another cookie key: a control showing that the key, and nothing
	// else, is what lets one function read another's cookies.
	otherKey := newCookieKey()
	other := map[string][]byte{clientSecretName: secretManager[clientSecretName], cookieKeyName: []byte(otherKey)}
	control := start(deployments["listlabels"], other)
	gw.route("listlabels-otherkey", control)
	processes = append(processes, control)

	var seen []exchange
	failf := func(format string, args ...any) {
		t.Helper()
		var out []string
		for _, p := range processes {
			out = append(out, p.output())
		}
		t.Fatalf(format+"\n%s\nfunction instances' output:\n%s", append(args, gw.log(), strings.Join(out, "\n"))...)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	trusting := gw.server.Client().Transport // trusts the front end's test certificate
	browser := noRedirects(&http.Client{Transport: trusting, Jar: jar})
	do := func(client *http.Client, method, path string, header http.Header) exchange {
		t.Helper()
		target := path
		if strings.HasPrefix(path, "/") {
			target = gw.url() + path
		}
		e := send(t, client, method, target, header)
		seen = append(seen, e)
		return e
	}

	// 1. oauth2init sends the browser to Google, with the state in a login cookie.
	begin := do(browser, http.MethodGet, "/oauth2init", nil)
	if begin.status != http.StatusFound || !strings.HasPrefix(begin.location(), google.URL+fakegoogle.AuthPath+"?") {
		failf("GET /oauth2init: want 302 to the fake Google's %s, got:\n%s", fakegoogle.AuthPath, begin)
	}
	if c := begin.cookie("__Host-oauth_login"); c == nil || !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" {
		failf("GET /oauth2init: want a Secure, HttpOnly __Host-oauth_login cookie with Path=/ and no Domain (REDIRECT_URL is https), got:\n%s", begin)
	}

	// 2. Alice approves; Google sends her back to the callback registered on the client.
	callback, err := fake.Approve(begin.location(), "alice@example.com")
	if err != nil {
		failf("the fake Google refused the authorization request: %v\nrequest: %s", err, begin.location())
	}
	if !strings.HasPrefix(callback.String(), gw.url()+"/oauth2callback?") {
		failf("Google redirects to %s: want the front end's /oauth2callback, from REDIRECT_URL", callback)
	}

	// 3. The callback instance (another process than oauth2init) reads the login cookie, exchanges
	// the code and sets the session cookie.
	signedIn := do(browser, http.MethodGet, callback.String(), nil)
	callbackTrace := gw.lastTrace()
	if signedIn.status != http.StatusFound || signedIn.location() != "/listlabels" {
		failf("GET /oauth2callback after approval: want 302 /listlabels (the login cookie set by the oauth2init instance must be readable by the oauth2callback instance), got:\n%s", signedIn)
	}
	session := signedIn.cookie("__Host-oauth_session")
	if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Domain != "" {
		failf("GET /oauth2callback: want a Secure, HttpOnly, SameSite=Lax __Host-oauth_session cookie with Path=/ and no Domain, got:\n%s", signedIn)
	}
	if c := signedIn.cookie("__Host-oauth_login"); c == nil || c.MaxAge >= 0 {
		t.Errorf("GET /oauth2callback: want the __Host-oauth_login cookie cleared (Max-Age<=0), got:\n%s", signedIn)
	}

	// 4. The listlabels instance accepts the session cookie the callback instance sealed.
	labels := do(browser, http.MethodGet, "/listlabels", nil)
	if served := gw.lastFunction(); served != "listlabels" {
		failf("GET /listlabels was served by %q, want the listlabels instance", served)
	}
	alice, ok := fakegoogle.FindAccount(fakegoogle.DemoAccounts(), "alice@example.com")
	if !ok {
		t.Fatal("no demo account alice@example.com")
	}
	want := []string{fmt.Sprintf("%d label(s) found", len(alice.Labels))}
	for _, l := range alice.Labels {
		if l.Type == "user" { // system labels are shown under Gmail's display names
			want = append(want, l.Name)
		}
	}
	if labels.status != http.StatusOK {
		failf("GET /listlabels with the session cookie set by the oauth2callback instance: want 200 (the listlabels instance shares only COOKIE_SECRET with it), got:\n%s", labels)
	}
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(labels.body, ""))
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("GET /listlabels: want the page to show %q, got:\n%s", w, labels)
		}
	}

	// The same cookie is worthless to an instance with another key. (Sent by hand: that instance
	// rightly deletes a cookie it cannot read, and the browser's is needed below.)
	stranger := noRedirects(&http.Client{Transport: trusting})
	cookie := http.Header{"Cookie": {(&http.Cookie{Name: session.Name, Value: session.Value}).String()}}
	if e := do(stranger, http.MethodGet, "/listlabels-otherkey", cookie); e.status != http.StatusFound || e.location() != "/oauth2init" {
		failf("GET listlabels under another COOKIE_SECRET with that session cookie: want 302 /oauth2init, got:\n%s", e)
	}

	// 5. Rotating the cookie key signs nobody out. deploy.sh --rotate-cookie-key mounts the new key
	// as COOKIE_SECRET and the one before as COOKIE_SECRET_PREVIOUS (its dry run pretends the
	// project had one version: 2 is the new key, 1 the one the session was sealed with). An
	// instance deployed so reads the session, and seals it again under the new key at once.
	rotatedDeployments := deploymentsOfDryRun(t, "--rotate-cookie-key")
	rotation := rotatedDeployments["listlabels"]
	if rotation.secretEnv["COOKIE_SECRET"] != cookieKeyName+":2" || rotation.secretEnv["COOKIE_SECRET_PREVIOUS"] != cookieKeyName+":1" {
		failf("deploy.sh --rotate-cookie-key mounts %v, want COOKIE_SECRET=%s:2 and COOKIE_SECRET_PREVIOUS=%s:1", rotation.secretEnv, cookieKeyName, cookieKeyName)
	}
	keyAfterRotation, keyAfterNext := newCookieKey(), newCookieKey()
	afterRotation := start(rotation, map[string][]byte{clientSecretName: secretManager[clientSecretName],
		cookieKeyName + ":1": []byte(key), cookieKeyName + ":2": []byte(keyAfterRotation)})
	gw.route("listlabels-rotated", afterRotation)
	processes = append(processes, afterRotation)
	rotated := do(browser, http.MethodGet, "/listlabels-rotated", nil)
	if rotated.status != http.StatusOK {
		failf("GET listlabels after a rotation, with a session sealed before it: want 200, got:\n%s", rotated)
	}
	if c := rotated.cookie("__Host-oauth_session"); c == nil || c.MaxAge <= 0 || !c.Secure {
		failf("GET listlabels after a rotation: want the session sealed again (a Secure __Host-oauth_session cookie), got:\n%s", rotated)
	}
	// At the next rotation the first key is disabled; the session, sealed again, still works.
	secondRotation := map[string][]byte{clientSecretName: secretManager[clientSecretName],
		cookieKeyName + ":1": []byte(keyAfterRotation), cookieKeyName + ":2": []byte(keyAfterNext)}
	afterNext := start(rotation, secondRotation)
	gw.route("listlabels-rotated-twice", afterNext)
	processes = append(processes, afterNext)
	// Every function is deployed again at a rotation: sign-out below is the rotated one.
	rotatedSignOut := start(rotatedDeployments["signout"], secondRotation)
	gw.route("signout", rotatedSignOut)
	processes = append(processes, rotatedSignOut)
	if again := do(browser, http.MethodGet, "/listlabels-rotated-twice", nil); again.status != http.StatusOK {
		failf("GET listlabels after a second rotation: want 200 (the session was sealed again after the first), got:\n%s", again)
	}
	secretKeys := []string{keyAfterRotation, keyAfterNext}

	// 6. Sign-out accepts only a same-origin POST; it revokes the token and clears the cookies.
	if e := do(browser, http.MethodPost, "/signout", http.Header{"Origin": {"https://evil.example"}}); e.status != http.StatusForbidden || e.cookie("__Host-oauth_session") != nil {
		failf("POST /signout with a foreign Origin: want 403 and the session left alone, got:\n%s", e)
	}
	out := do(browser, http.MethodPost, "/signout", http.Header{"Origin": {gw.url()}})
	if out.status != http.StatusSeeOther || out.location() != "/signout" {
		failf("POST /signout with Origin %s (the front end's Host reaches the instance): want 303 to /signout, got:\n%s", gw.url(), out)
	}
	if c := out.cookie("__Host-oauth_session"); c == nil || c.MaxAge >= 0 || !c.Secure || c.Path != "/" {
		t.Errorf("POST /signout: want the Secure __Host-oauth_session cookie cleared (Max-Age<=0, Path=/), got:\n%s", out)
	}
	if stats := fake.Stats(); stats.CodeExchanges != 1 || stats.Revocations != 1 {
		t.Errorf("the fake Google saw %d code exchanges and %d revocations, want 1 and 1", stats.CodeExchanges, stats.Revocations)
	}
	if after := do(browser, http.MethodGet, "/listlabels", nil); after.status != http.StatusFound || after.location() != "/oauth2init" {
		t.Errorf("GET /listlabels after sign-out: want 302 /oauth2init, got:\n%s", after)
	}

	// 7. A sign-in started on the oauth2init function's own run.app address (which Cloud Run serves
	// too, straight to the instance) moves to the redirect URL's host before any cookie is set: a
	// login cookie on run.app would never reach the callback.
	direct := noRedirects(&http.Client{})
	runApp := send(t, direct, http.MethodGet, gw.instance("oauth2init").url+"/?next=listlabels",
		http.Header{"Host": {"oauth2init-4qhhq2phya-ew.a.run.app"}, "X-Forwarded-Proto": {"https"}})
	seen = append(seen, runApp)
	if runApp.status != http.StatusFound || runApp.location() != gw.url()+"/oauth2init?next=listlabels&moved=1" || len(runApp.cookies) != 0 {
		failf("GET / on oauth2init's run.app host: want 302 to %s/oauth2init?next=listlabels&moved=1 and no cookie, got:\n%s", gw.url(), runApp)
	}

	// Over https every response, pages, redirects and refusals alike, tells the browser to use
	// nothing else for a long time (at least 180 days).
	for _, e := range seen {
		var maxAge int
		if _, err := fmt.Sscanf(e.header.Get("Strict-Transport-Security"), "max-age=%d", &maxAge); err != nil || maxAge < 180*24*3600 {
			t.Errorf("%s: Strict-Transport-Security %q, want max-age of at least 180 days", e.request, e.header.Get("Strict-Transport-Security"))
		}
	}

	// Every address the pages and redirects send the browser to must be a deployed function: the
	// functions live at /<name> on one host, not at paths of one server.
	for _, e := range seen {
		for _, path := range rootRelativeLinks(e) {
			name, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
			name, _, _ = strings.Cut(name, "?")
			if _, ok := deployments[name]; !ok {
				t.Errorf("%s links to %s, which is no deployed function (want /<function>)", e.request, path)
			}
		}
	}

	secrets := append(fake.Secrets(), append(secretKeys, key, otherKey)...)
	for _, e := range seen {
		for _, c := range e.cookies {
			secrets = append(secrets, c.Value)
		}
	}
	var callbackLines []map[string]any
	var callbackInstance *functionProcess
	for _, p := range processes {
		lines := checkFunctionLogs(t, p, secrets)
		if p == gw.instance("oauth2callback") {
			callbackLines, callbackInstance = lines, p
		}
	}
	// Cloud Logging groups a request's lines by trace: the front end's trace id, under the project
	// when GOOGLE_CLOUD_PROJECT is set.
	wantTrace := callbackTrace
	for _, kv := range deployments["oauth2callback"].envVars {
		if project, ok := strings.CutPrefix(kv, "GOOGLE_CLOUD_PROJECT="); ok && project != "" {
			wantTrace = "projects/" + project + "/traces/" + callbackTrace
		}
	}
	found := false
	for _, line := range callbackLines {
		if line["message"] == "signed in" {
			found = true
			if got := line["logging.googleapis.com/trace"]; got != wantTrace {
				t.Errorf("the oauth2callback line %q has trace %v, want %q (X-Cloud-Trace-Context and GOOGLE_CLOUD_PROJECT)", line["message"], got, wantTrace)
			}
		}
	}
	if !found {
		t.Errorf("oauth2callback logged no \"signed in\" line, want one\n%s", callbackInstance.output())
	}
}

var linkAttribute = regexp.MustCompile(`(?:href|action)="(/[^"]*)"`)

// rootRelativeLinks lists the root-relative paths a response sends the browser to: its Location and
// the href and action attributes of its page.
func rootRelativeLinks(e exchange) []string {
	var links []string
	if loc := e.location(); strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
		links = append(links, loc)
	}
	for _, m := range linkAttribute.FindAllStringSubmatch(e.body, -1) {
		links = append(links, html.UnescapeString(m[1]))
	}
	return links
}

// deployment is how deploy.sh deploys one function, as its --dry-run shows the gcloud command.
type deployment struct {
	name        string
	entryPoint  string            // --entry-point: the FUNCTION_TARGET
	envVars     []string          // --set-env-vars, as NAME=VALUE
	secretEnv   map[string]string // --set-secrets NAME=SECRET:VERSION: variable -> SECRET:VERSION
	secretFiles map[string]string // --set-secrets /PATH=SECRET:VERSION: mount path -> SECRET:VERSION
}

// deploymentsOfDryRun runs deploy.sh --dry-run (with more flags) in a sandbox and reads each
// function's settings from its gcloud functions deploy command.
func deploymentsOfDryRun(t *testing.T, flags ...string) map[string]deployment {
	t.Helper()
	r := newSandbox(t).deploy(append([]string{"--dry-run"}, flags...)...)
	deployments := map[string]deployment{}
	for _, line := range strings.Split(r.stdout, "\n") {
		rest, ok := strings.CutPrefix(line, "+ gcloud functions deploy ")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		d := deployment{name: fields[0], secretEnv: map[string]string{}, secretFiles: map[string]string{}}
		var triggerHTTP bool
		for _, field := range fields[1:] {
			flag, value, _ := strings.Cut(field, "=")
			switch flag {
			case "--trigger-http":
				triggerHTTP = true
			case "--entry-point":
				d.entryPoint = value
			case "--set-env-vars", "--update-env-vars":
				if strings.HasPrefix(value, "^") {
					t.Fatalf("deploy.sh uses a custom delimiter in %s; this test reads only commas:\n%s", flag, line)
				}
				d.envVars = append(d.envVars, strings.Split(value, ",")...)
			case "--set-secrets", "--update-secrets":
				for _, binding := range strings.Split(value, ",") {
					target, ref, _ := strings.Cut(binding, "=")
					if strings.HasPrefix(target, "/") {
						d.secretFiles[target] = ref
					} else {
						d.secretEnv[target] = ref
					}
				}
			}
		}
		if !triggerHTTP || d.entryPoint == "" {
			t.Fatalf("deploy.sh deploys %s without --trigger-http or --entry-point, want both:\n%s", d.name, line)
		}
		deployments[d.name] = d
	}
	if len(deployments) == 0 {
		t.Fatalf("deploy.sh --dry-run shows no gcloud functions deploy command:\n%s", r)
	}
	return deployments
}

// environment is an instance's environment: what Cloud Functions sets, the deployment's variables
// with its base URL replaced by frontEnd, and its secrets from secrets (by SECRET:VERSION, else by
// SECRET). Absolute paths (secret mounts, and variables naming them) move under a directory of
// this instance.
func (d deployment) environment(t *testing.T, frontEnd string, secrets map[string][]byte) []string {
	t.Helper()
	filesystem := t.TempDir()
	env := platformEnvironment(d.name, d.entryPoint)
	for _, kv := range d.envVars {
		name, value, _ := strings.Cut(kv, "=")
		value = strings.ReplaceAll(value, baseURL, frontEnd)
		if strings.HasPrefix(value, "/") {
			value = filepath.Join(filesystem, filepath.FromSlash(value))
		}
		env = append(env, name+"="+value)
	}
	for name, ref := range d.secretEnv {
		value, ok := secretValue(secrets, ref)
		if !ok {
			t.Fatalf("deploy.sh gives %s the secret %s as $%s; this test knows only %v", d.name, ref, name, slices.Sorted(maps.Keys(secrets)))
		}
		env = append(env, name+"="+string(value))
	}
	for path, ref := range d.secretFiles {
		value, ok := secretValue(secrets, ref)
		if !ok {
			t.Fatalf("deploy.sh mounts the secret %s at %s for %s; this test knows only %v", ref, path, d.name, slices.Sorted(maps.Keys(secrets)))
		}
		writeSecretFile(t, filepath.Join(filesystem, filepath.FromSlash(path)), value)
	}
	return env
}

// secretValue looks up a SECRET:VERSION reference in secrets, by the whole reference and else by the
// secret's name.
func secretValue(secrets map[string][]byte, ref string) ([]byte, bool) {
	if v, ok := secrets[ref]; ok {
		return v, true
	}
	name, _, _ := strings.Cut(ref, ":")
	v, ok := secrets[name]
	return v, ok
}

// gateway plays Google's front end of https://REGION-PROJECT.cloudfunctions.net: TLS, and
// /<function>[/rest][?query] routed to that function's instance as /[rest][?query], with the Host
// header kept, X-Forwarded-Proto: https and a fresh X-Cloud-Trace-Context. An unknown function is a
// 404, as there.
type gateway struct {
	server *httptest.Server
	mu     sync.Mutex
	routes map[string]*functionProcess
	served []servedRequest
}

type servedRequest struct {
	request, function, trace string
	err                      error
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	g := &gateway{routes: map[string]*functionProcess{}}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			name, rest := splitFunctionPath(r.In.URL.Path)
			target, _ := url.Parse(g.instance(name).url)
			r.Out.URL.Scheme, r.Out.URL.Host = target.Scheme, target.Host
			r.Out.URL.Path, r.Out.URL.RawPath = rest, ""
			r.Out.Host = r.In.Host
			r.SetXForwarded()
			r.Out.Header.Set("X-Cloud-Trace-Context", r.In.Header.Get("X-Test-Trace")+"/1;o=1")
			r.Out.Header.Del("X-Test-Trace")
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			g.mu.Lock()
			g.served[len(g.served)-1].err = err
			g.mu.Unlock()
			http.Error(w, "front end: "+err.Error(), http.StatusBadGateway)
		},
	}
	g.server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _ := splitFunctionPath(r.URL.Path)
		if g.instance(name) == nil {
			http.NotFound(w, r)
			return
		}
		trace := make([]byte, 16)
		_, _ = rand.Read(trace)
		r.Header.Set("X-Test-Trace", hex.EncodeToString(trace))
		g.mu.Lock()
		g.served = append(g.served, servedRequest{request: r.Method + " " + r.URL.RequestURI(), function: name, trace: hex.EncodeToString(trace)})
		g.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(g.server.Close)
	return g
}

func (g *gateway) url() string { return g.server.URL }

func (g *gateway) route(name string, p *functionProcess) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.routes[name] = p
}

func (g *gateway) instance(name string) *functionProcess {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.routes[name]
}

func (g *gateway) last() servedRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.served) == 0 {
		return servedRequest{}
	}
	return g.served[len(g.served)-1]
}

func (g *gateway) lastFunction() string { return g.last().function }
func (g *gateway) lastTrace() string    { return g.last().trace }

// log lists what the front end routed where, for failure messages.
func (g *gateway) log() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var b strings.Builder
	b.WriteString("front end:\n")
	for _, s := range g.served {
		fmt.Fprintf(&b, "  %s -> %s", s.request, s.function)
		if s.err != nil {
			fmt.Fprintf(&b, " (%v)", s.err)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// splitFunctionPath splits /<function>/rest into the function's name and the path it serves, "/rest".
func splitFunctionPath(path string) (name, rest string) {
	name, rest, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return name, "/" + rest
}
