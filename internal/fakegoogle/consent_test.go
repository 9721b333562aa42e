package fakegoogle_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

var requestIDPattern = regexp.MustCompile(`name="request" value="([^"]+)"`)

// consentPage GETs an authorization URL and returns the response, its body
// and the pending request id in the form.
func consentPage(t *testing.T, h *harness, authURL string) (*http.Response, string, string) {
	t.Helper()
	res, err := h.noRedirect().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("consent page: %d %s", res.StatusCode, b)
	}
	m := requestIDPattern.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no request id in the consent form:\n%s", b)
	}
	return res, string(b), string(m[1])
}

// decide posts the consent form.
func decide(t *testing.T, h *harness, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := h.noRedirect().PostForm(h.ts.URL+fakegoogle.DecisionPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestConsentPageShowsTheRequestSafely(t *testing.T) {
	t.Parallel()
	accounts := append(fakegoogle.DemoAccounts(), fakegoogle.Account{Email: "eve@example.org", Name: `<b>Eve</b> "the" & co`})
	h := newHarness(t, fakegoogle.Options{AppName: `Ann's <Labels> & "Co"`, Accounts: accounts},
		"https://www.googleapis.com/auth/gmail.readonly", "https://example.com/auth/custom")
	u, _, _ := h.authURL()
	res, body, _ := consentPage(t, h, u)

	for name, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	csp := map[string]string{}
	for _, d := range strings.Split(res.Header.Get("Content-Security-Policy"), ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		csp[name] = value
	}
	if csp["default-src"] != "'none'" || csp["script-src"] != "" || csp["frame-ancestors"] != "'none'" {
		t.Errorf("CSP = %v, want default-src 'none', no script-src", csp)
	}
	if !strings.HasPrefix(csp["style-src"], "'nonce-") || strings.Contains(csp["style-src"], "unsafe") {
		t.Errorf("style-src = %q, want only a nonce", csp["style-src"])
	}
	nonce := strings.TrimSuffix(strings.TrimPrefix(csp["style-src"], "'nonce-"), "'")
	if !strings.Contains(body, `<style nonce="`+nonce+`">`) {
		t.Errorf("the page's style does not carry the CSP nonce %q", nonce)
	}
	if fa := strings.Fields(csp["form-action"]); len(fa) != 2 || fa[0] != "'self'" || fa[1] != "http://app.example.test" {
		t.Errorf("form-action = %v, want 'self' and the redirect origin", fa)
	}

	for _, want := range []string{
		`<html lang="en">`, "<title>", `name="viewport"`, "<h1>",
		`Ann&#39;s &lt;Labels&gt; &amp; &#34;Co&#34;`,
		"View your email messages and settings",
		"https://example.com/auth/custom",
		`<form id="consent" method="post" action="/o/oauth2/auth/decision">`,
		`id="account-0" value="alice@example.com" checked`,
		`id="account-1" value="bob@example.org">`,
		`id="account-2" value="mallory@example.com">`,
		`id="account-3" value="` + fakegoogle.BusyAccountEmail + `">`,
		`id="account-4" value="eve@example.org">`,
		`&lt;b&gt;Eve&lt;/b&gt; &#34;the&#34; &amp; co`,
		`id="allow" name="decision" value="allow"`,
		`id="deny" name="decision" value="deny"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "<Labels>", "<b>Eve", "gmail.readonly</li>", h.cfg.ClientSecret} {
		if strings.Contains(body, bad) {
			t.Errorf("consent page contains %q", bad)
		}
	}
	if n := len(regexp.MustCompile(`type="radio"[^>]* checked`).FindAllString(body, -1)); n != 1 {
		t.Errorf("%d preselected accounts, want exactly one", n)
	}
}

func TestConsentPagePreselectsTheLoginHint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	u, _, _ := h.authURL(oauth2.SetAuthURLParam("login_hint", "bob@example.org"))
	_, body, _ := consentPage(t, h, u)
	if !strings.Contains(body, `id="account-1" value="bob@example.org" checked`) || strings.Count(body, "checked") != 1 {
		t.Errorf("login_hint account not preselected")
	}
}

func TestConsentDecision(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})

	t.Run("allow", func(t *testing.T) {
		u, verifier, state := h.authURL()
		_, _, id := consentPage(t, h, u)
		res, _ := decide(t, h, url.Values{"request": {id}, "account": {"mallory@example.com"}, "decision": {"allow"}})
		loc := mustParse(t, res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || loc.Host != "app.example.test" || loc.Query().Get("state") != state {
			t.Fatalf("allow: %d %s", res.StatusCode, loc)
		}
		tok, err := h.cfg.Exchange(h.ctx(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		labels, err := h.gmail(tok).Users.Labels.List("me").Do()
		if err != nil {
			t.Fatal(err)
		}
		if got := labels.Labels[len(labels.Labels)-2].Name; got != fakegoogle.QuotesLabelName {
			t.Errorf("the chosen account's labels were not returned (got %q)", got)
		}

		res, body := decide(t, h, url.Values{"request": {id}, "account": {"mallory@example.com"}, "decision": {"allow"}})
		if res.StatusCode != 400 || res.Header.Get("Location") != "" || !strings.Contains(body, "expired") {
			t.Errorf("second submission of the same form: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
	})

	t.Run("deny", func(t *testing.T) {
		u, _, state := h.authURL()
		_, _, id := consentPage(t, h, u)
		res, _ := decide(t, h, url.Values{"request": {id}, "account": {"alice@example.com"}, "decision": {"deny"}})
		loc := mustParse(t, res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || loc.Query().Get("error") != "access_denied" ||
			loc.Query().Get("state") != state || loc.Query().Has("code") {
			t.Errorf("deny: %d %s", res.StatusCode, loc)
		}
	})

	t.Run("bad forms leave the request usable", func(t *testing.T) {
		u, _, _ := h.authURL()
		_, _, id := consentPage(t, h, u)
		for _, form := range []url.Values{
			{"request": {id}, "account": {"nobody@example.net"}, "decision": {"allow"}},
			{"request": {id}, "decision": {"allow"}},
			{"request": {id}, "account": {"alice@example.com"}},
			{"request": {id}, "account": {"alice@example.com"}, "decision": {"maybe"}},
		} {
			if res, _ := decide(t, h, form); res.StatusCode != 400 || res.Header.Get("Location") != "" {
				t.Errorf("%v: %d %s", form, res.StatusCode, res.Header.Get("Location"))
			}
		}
		if res, _ := decide(t, h, url.Values{"request": {id}, "account": {"alice@example.com"}, "decision": {"allow"}}); res.StatusCode != 302 {
			t.Errorf("valid form after bad ones: %d", res.StatusCode)
		}
	})

	t.Run("unknown request", func(t *testing.T) {
		res, body := decide(t, h, url.Values{"request": {"made-up"}, "account": {"alice@example.com"}, "decision": {"allow"}})
		if res.StatusCode != 400 || res.Header.Get("Location") != "" || !strings.Contains(res.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "expired") {
			t.Errorf("unknown request: %d %s", res.StatusCode, body)
		}
	})

	t.Run("GET is refused", func(t *testing.T) {
		res, err := h.noRedirect().Get(h.ts.URL + fakegoogle.DecisionPath)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 || res.Header.Get("Allow") != "POST" {
			t.Errorf("GET decision: %d Allow %q", res.StatusCode, res.Header.Get("Allow"))
		}
	})
}

func TestConsentRequestExpires(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, fakegoogle.Options{Now: clock.Now})
	u, _, _ := h.authURL()
	_, _, id := consentPage(t, h, u)
	clock.Advance(16 * time.Minute)
	if res, _ := decide(t, h, url.Values{"request": {id}, "account": {"alice@example.com"}, "decision": {"allow"}}); res.StatusCode != 400 {
		t.Errorf("expired consent: %d, want 400", res.StatusCode)
	}
}

func TestRedirectURIMismatchPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	cfg := *h.cfg
	cfg.RedirectURL = `https://evil.example.net/cb?<script>alert(1)</script>`
	res, err := h.noRedirect().Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	body := string(b)
	if res.StatusCode != 400 || res.Header.Get("Location") != "" {
		t.Errorf("got %d Location %q, want a 400 page", res.StatusCode, res.Header.Get("Location"))
	}
	if !strings.Contains(body, "redirect_uri_mismatch") || strings.Contains(body, "<script>") {
		t.Errorf("error page:\n%s", body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("error page headers: %v", res.Header)
	}
}

func TestConsentPageLetsThePersonUntickScopesWhenSeveralAreAsked(t *testing.T) {
	t.Parallel()
	const drive = "https://www.googleapis.com/auth/drive.metadata.readonly"
	h := newHarness(t, fakegoogle.Options{}, drive, "https://www.googleapis.com/auth/gmail.readonly")
	authURL, _, _ := h.authURL()
	resp, err := h.ts.Client().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, scope := range []string{drive, "https://www.googleapis.com/auth/gmail.readonly"} {
		if !strings.Contains(string(page), `type="checkbox" name="scope"`) || !strings.Contains(string(page), `value="`+scope+`" checked`) {
			t.Fatalf("consent page has no ticked box for %s:\n%s", scope, page)
		}
	}
	request := regexp.MustCompile(`name="request" value="([^"]+)"`).FindStringSubmatch(string(page))
	if request == nil {
		t.Fatal("no request id on the consent page")
	}
	client := h.ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// Gmail unticked: only Drive is sent.
	answer, err := client.PostForm(h.ts.URL+fakegoogle.DecisionPath, url.Values{
		"request": {request[1]}, "decision": {"allow"}, "account": {"alice@example.com"}, "scope": {drive},
	})
	if err != nil {
		t.Fatal(err)
	}
	answer.Body.Close()
	cb, err := url.Parse(answer.Header.Get("Location"))
	if err != nil || cb.Query().Get("scope") != drive {
		t.Fatalf("callback %q, want only %s granted", answer.Header.Get("Location"), drive)
	}
}

func TestSignInScopesAreGrantedWithoutABox(t *testing.T) {
	t.Parallel()
	const drive = "https://www.googleapis.com/auth/drive.metadata.readonly"
	h := newHarness(t, fakegoogle.Options{}, "openid", "email", "https://www.googleapis.com/auth/gmail.readonly", drive)
	authURL, _, _ := h.authURL(oauth2.SetAuthURLParam("prompt", "select_account"))
	resp, err := h.ts.Client().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	boxes := regexp.MustCompile(`type="checkbox" name="scope" id="[^"]+" value="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	var boxed []string
	for _, b := range boxes {
		boxed = append(boxed, b[1])
	}
	if want := []string{"https://www.googleapis.com/auth/gmail.readonly", drive}; !slices.Equal(boxed, want) {
		t.Errorf("boxes for %q, want %q only", boxed, want)
	}
	if !strings.Contains(string(page), "<li>See your primary Google Account email address</li>") {
		t.Errorf("the page does not say that signing in shares the address:\n%s", page)
	}
	request := regexp.MustCompile(`name="request" value="([^"]+)"`).FindStringSubmatch(string(page))
	if resp.StatusCode != http.StatusOK || request == nil {
		t.Fatalf("consent page %d without a request id", resp.StatusCode)
	}
	client := h.noRedirect()
	// Every box unticked: signing in still grants the sign-in scopes.
	answer, err := client.PostForm(h.ts.URL+fakegoogle.DecisionPath, url.Values{
		"request": {request[1]}, "decision": {"allow"}, "account": {"bob@example.org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	answer.Body.Close()
	cb, err := url.Parse(answer.Header.Get("Location"))
	if want := "openid https://www.googleapis.com/auth/userinfo.email"; err != nil || cb.Query().Get("scope") != want {
		t.Errorf("callback %q, want scope %q", answer.Header.Get("Location"), want)
	}
}

func TestASignInAloneHasNoBoxes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, "openid", "email", "profile")
	authURL, _, _ := h.authURL()
	resp, err := h.ts.Client().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(page), `type="checkbox"`) || strings.Contains(string(page), "<fieldset id=\"scopes\">") ||
		!strings.Contains(string(page), "<li>See your primary Google Account email address</li>") {
		t.Errorf("consent page for sign-in scopes alone: %d\n%s", resp.StatusCode, page)
	}
}
