package oauthgmail

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"

	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/session"
)

const (
	// fuzzState and fuzzVerifier are the sign-in in progress of the fuzzed
	// browser. They are fixed, so that inputs in the corpus keep matching.
	fuzzState    = "fzSTATEq7Lm2Vx9Rc4Wn8Bk3Yh6Pj"
	fuzzVerifier = "fuzz-verifier.0123456789~abcdefghijklmnopqrstuvwxyz"
	// codeHole in a fuzzed query is replaced by a fresh authorization code
	// issued for the fuzzed sign-in, so that inputs can reach a successful
	// exchange again and again (codes are single-use).
	codeHole = "{code}"
)

// FuzzCallbackQuery sends oauth2callback arbitrary raw queries from a
// browser with a valid login cookie. Whatever the query, the callback must
// not answer 5xx except 502 or 504 after calling the token endpoint, must
// not call the token endpoint or set a session unless the state matched,
// must redirect only to /listlabels with a session, and must log no secret.
// The handler is called directly and the fake Google runs on loopback, so
// an iteration costs one handler call (plus a code exchange when the state
// matches).
func FuzzCallbackQuery(f *testing.F) {
	e := newTestEnv(f)
	callback := e.handler("oauth2callback")
	authURL := e.app.oauth.AuthCodeURL(fuzzState, oauth2.S256ChallengeOption(fuzzVerifier), e.app.accessType,
		oauth2.SetAuthURLParam("scope", gmail.GmailReadonlyScope))
	scope := "scope=" + url.QueryEscape("https://www.googleapis.com/auth/gmail.readonly")
	s := "state=" + fuzzState
	c := "code=" + codeHole
	for _, seed := range []string{
		// What Google sends.
		c + "&" + s + "&" + scope,
		s + "&" + c + "&" + scope + "&authuser=0&prompt=consent",
		"iss=" + url.QueryEscape("https://accounts.google.com") + "&" + s + "&" + c + "&" + scope,
		"error=access_denied&" + s,
		"error=access_denied&error_description=" + url.QueryEscape("The user denied the request") + "&" + s,
		"error=invalid_scope&error_uri=https%3A%2F%2Fexample.com&" + s,
		"error=" + url.QueryEscape("<script>alert(1)</script>") + "&" + s,
		// Wrong, missing or repeated parts.
		s,
		c,
		"code=4%2F0AQSTgQunknown&" + s + "&" + scope,
		c + "&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		c + "&state=" + strings.ToLower(fuzzState),
		c + "&" + s + "&" + s,
		c + "&" + c + "&" + s,
		c + "&" + s + "&error=",
		c + "&" + s + "&error=server_error",
		c + "&state=&state=" + fuzzState,
		"STATE=" + fuzzState + "&CODE=" + codeHole,
		c + ";" + s,
		"state=" + url.QueryEscape(fuzzState+"&code="+codeHole),
		c + "&" + s + "%00",
		c + "&state=" + fuzzState + "+",
		// Junk.
		"",
		"&&&==&",
		"%zz&state=%&code=%%",
		"code=" + strings.Repeat("x", 5000) + "&" + s,
		"state=" + strings.Repeat("%FF", 300),
		"code=\x00\r\n&state=\xff\xfe",
		"a[]=1&a[]=2&code[0]=x&state[]=" + fuzzState,
	} {
		f.Add(seed)
	}
	loginName, sessionName := loginCookie, sessionCookie
	fixedSecrets := []string{fuzzVerifier, testKey}

	f.Fuzz(func(t *testing.T, raw string) {
		secretsBefore := len(e.google.Secrets())
		var code string
		if strings.Contains(raw, codeHole) {
			cb, err := e.google.Approve(authURL, "")
			if err != nil {
				t.Fatalf("Approve: %v", err)
			}
			code = cb.Query().Get("code")
			raw = strings.ReplaceAll(raw, codeHole, url.QueryEscape(code))
		}
		// A fresh login cookie each time, so that it never expires however
		// long the fuzzing runs.
		rec := httptest.NewRecorder()
		if err := e.app.store.Login.Write(rec, session.Login{State: fuzzState, Verifier: fuzzVerifier}); err != nil {
			t.Fatal(err)
		}
		login := cookieNamed(rec.Result(), loginName)
		req := httptest.NewRequest(http.MethodGet, "/oauth2callback", nil)
		req.URL.RawQuery = raw
		req.RequestURI = "/oauth2callback?" + raw
		req.AddCookie(&http.Cookie{Name: login.Name, Value: login.Value})

		e.logs.reset()
		tokenRequests := e.google.Stats().TokenRequests
		w := httptest.NewRecorder()
		callback.ServeHTTP(w, req)
		resp := w.Result()
		exchanged := e.google.Stats().TokenRequests > tokenRequests

		query := req.URL.Query()
		stateMatched := len(query["state"]) == 1 && query["state"][0] == fuzzState
		sess := cookieNamed(resp, sessionName)
		signedIn := sess != nil && sess.MaxAge > 0
		switch {
		case resp.StatusCode >= 500 && !((resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout) && exchanged):
			t.Fatalf("status %d without a failed call to the token endpoint", resp.StatusCode)
		case signedIn && !stateMatched:
			t.Fatalf("a session was set although the state did not match: %q", raw)
		case signedIn && query.Get("error") != "":
			t.Fatalf("a session was set despite an error parameter: %q", raw)
		case exchanged && !stateMatched:
			t.Fatalf("the code was exchanged although the state did not match: %q", raw)
		case resp.StatusCode == http.StatusFound && (!signedIn || resp.Header.Get("Location") != "/listlabels"):
			t.Fatalf("redirect to %q, signed in %v; only a sign-in redirects, to /listlabels", resp.Header.Get("Location"), signedIn)
		case resp.StatusCode != http.StatusFound && signedIn:
			t.Fatalf("status %d with a session cookie", resp.StatusCode)
		case resp.StatusCode < 300:
			t.Fatalf("status %d; the callback always redirects or explains an error", resp.StatusCode)
		}
		// The login cookie is spent by every answer but an error that is
		// not this sign-in's (anyone can send a browser there), which
		// leaves the sign-in in progress alone.
		foreignError := query.Get("error") != "" && !stateMatched
		if c := cookieNamed(resp, loginName); !foreignError && (c == nil || c.MaxAge >= 0) {
			t.Error("the login cookie was not spent")
		} else if foreignError && c != nil {
			t.Errorf("an error callback with another state touched the login cookie: %q", raw)
		}
		checkCommonHeaders(t, "callback", response{status: resp.StatusCode, header: resp.Header})

		// No secret in this iteration's log lines: what Google issued during
		// it, the verifier, the cookie key and the login cookie. A code the
		// input itself carried outside the code parameter (say, as the
		// error) is the browser's own text and is not counted.
		secrets := append(e.google.Secrets()[secretsBefore:], append(fixedSecrets, login.Value)...)
		for name, values := range query {
			for _, v := range values {
				if name != "code" && code != "" && strings.Contains(v, code) {
					secrets = slices.DeleteFunc(secrets, func(s string) bool { return s == code })
				}
			}
		}
		checkLogLines(t, e.logs.String(), secrets)
	})
}

// reset empties the buffer.
func (b *logBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// FuzzLabelsPage renders the labels page for arbitrary label names and
// checks, with an HTML parser, that every name comes out as exactly that
// text in a list item, and that no name adds an element of its own.
func FuzzLabelsPage(f *testing.F) {
	for _, seed := range [][2]string{
		{"Travel/2026", "user"},
		{`<img src=x onerror=alert(1)>`, "user"},
		{`"quoted" & 'single' </li></ul><script>`, "user"},
		{"CATEGORY_PROMOTIONS", "system"},
		{"{{.Count}}", "user"},
		{"a/b/c//", "user"},
		{"\x00\ufffd\u202e", "user"},
	} {
		f.Add(seed[0], seed[1], seed[0]+"x")
	}
	f.Fuzz(func(t *testing.T, name, typ, other string) {
		if !utf8.ValidString(name) || !utf8.ValidString(other) || strings.ContainsRune(name+other, 0) || strings.ContainsRune(name+other, '\r') {
			// Gmail's label names are valid UTF-8 text; the parser would
			// rewrite these bytes, so the comparison would not hold.
			t.Skip()
		}
		labels := []*gmail.Label{{Name: name, Type: typ}, {Name: other, Type: "user"}}
		rec := httptest.NewRecorder()
		pages.Write(rec, http.StatusOK, "labels", newLabelsPage(labels, "", ""))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		shown := listItems(t, rec.Body.String())
		for _, l := range labels {
			if want := shownAs(l.Name, l.Type); !slices.Contains(shown, want) {
				t.Fatalf("label %q is not shown as text; list items %q", want, shown)
			}
		}
		if len(shown) != 2 {
			t.Fatalf("%d list items for 2 labels: %q", len(shown), shown)
		}
		doc, err := html.Parse(strings.NewReader(rec.Body.String()))
		if err != nil {
			t.Fatal(err)
		}
		for n := range doc.Descendants() {
			if n.Type == html.ElementNode && !slices.Contains(labelsPageElements, n.Data) {
				t.Fatalf("element <%s> on the page, from names %q and %q", n.Data, name, other)
			}
		}
	})
}

// labelsPageElements are the elements the labels page is made of.
var labelsPageElements = []string{"html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "form", "button", "p", "ul", "li", "data",
	"a", "span", "label", "input", "details", "summary"}
