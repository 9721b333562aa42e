package pages_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"example.com/gcf-oauth-gmail/internal/pages"
)

// checkPageHeaders verifies the headers the contract requires on every page.
func checkPageHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q must forbid scripts through default-src 'none'", csp)
	}
	for _, bad := range []string{"*", "unsafe-inline", "unsafe-eval", "http:", "https:", "data:"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q contains %q", csp, bad)
		}
	}
}

// labelsData has the fields and methods the labels page reads, as the
// app's page data has them.
type labelsData struct {
	Count                                     int
	Query                                     string
	System, Categories, User, Hidden, Matches []*labelNode
}

type labelNode struct {
	Name, Display, Parent, Color, Href string
	System                             bool
	Children                           []*labelNode
}

func TestLabelsPageEscapesNamesAndCounts(t *testing.T) {
	rec := httptest.NewRecorder()
	pages.Write(rec, http.StatusOK, "labels", labelsData{
		Count:  4,
		System: []*labelNode{{Name: "INBOX", Display: "Inbox", System: true}},
		User: []*labelNode{
			{Name: `<img src=x onerror=alert(1)>`, Display: `<img src=x onerror=alert(1)>`},
			{Name: `Tom & Jerry "quotes"`, Display: `Tom & Jerry "quotes"`, Color: "c-16a766"},
			{Name: "Travel", Display: "Travel", Children: []*labelNode{{Name: "Travel/2026", Display: "2026", Parent: "Travel/", Href: "https://mail.google.com/mail/u/?authuser=a@example.com#label/Travel/2026"}}},
		},
	})
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	checkPageHeaders(t, rec.Header())
	for _, want := range []string{"4 label(s) found", `<data value="INBOX">Inbox</data></a>`, "&lt;img src=x onerror=alert(1)&gt;",
		`<span class="swatch c-16a766"></span>Tom &amp; Jerry &#34;quotes&#34;</a>`, `<span class="vh">Travel/</span>2026</a>`,
		`href="https://mail.google.com/mail/u/?authuser=a@example.com#label/Travel/2026"`,
		`action="/signout"`, `<html lang="en">`, "<title>Your Gmail labels – " + pages.AppName + "</title>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<img") {
		t.Error("label name was not escaped")
	}
}

func TestUnknownPageIsAPlain500(t *testing.T) {
	rec := httptest.NewRecorder()
	pages.Write(rec, http.StatusOK, "no-such-page", nil)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "Something went wrong") {
		t.Fatalf("status %d body %q, want a plain 500 page", rec.Code, rec.Body.String())
	}
	checkPageHeaders(t, rec.Header())
}

func TestProblemPageSaysWhatHappenedAndWhatNext(t *testing.T) {
	rec := httptest.NewRecorder()
	pages.WriteProblem(rec, pages.Problem{Status: 403, Heading: "Access denied", Detail: "You chose <Deny>.", Next: &pages.Link{URL: "/oauth2init", Text: "Try again"}})
	if rec.Code != 403 {
		t.Fatalf("status %d, want 403", rec.Code)
	}
	checkPageHeaders(t, rec.Header())
	body := rec.Body.String()
	for _, want := range []string{"Access denied", "You chose &lt;Deny&gt;.", `href="/oauth2init"`, "Try again"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// signOutData has the fields the sign-out page reads.
type signOutData struct {
	SignedIn   bool
	Revocation string
}

func TestSignOutPageFitsEachState(t *testing.T) {
	tests := []struct {
		name    string
		data    signOutData
		want    []string
		wantNot []string
	}{
		{"signed in", signOutData{SignedIn: true},
			[]string{`<form method="post" action="/signout">`, "Sign out"}, []string{"myaccount.google.com"}},
		{"revocation confirmed", signOutData{Revocation: "confirmed"},
			[]string{"signed out", "Google confirmed", `href="/oauth2init"`}, []string{"<form", "myaccount.google.com"}},
		{"revocation not confirmed", signOutData{Revocation: "unconfirmed"},
			[]string{"signed out", "did not confirm", `href="https://myaccount.google.com/permissions"`}, []string{"<form", `href="/oauth2init"`}},
		{"was not signed in", signOutData{},
			[]string{"not signed in", `href="/oauth2init"`}, []string{"<form", "confirmed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			pages.Write(rec, http.StatusOK, "signout", tt.data)
			checkPageHeaders(t, rec.Header())
			body := rec.Body.String()
			for _, want := range tt.want {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, bad := range tt.wantNot {
				if strings.Contains(body, bad) {
					t.Errorf("page has %q", bad)
				}
			}
		})
	}
}

func TestPolicyHashMatchesTheInlineStylesheet(t *testing.T) {
	rec := httptest.NewRecorder()
	pages.Write(rec, http.StatusOK, "signout", signOutData{})
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatal("no inline stylesheet")
	}
	sum := sha256.Sum256([]byte(m[1]))
	want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), want) {
		t.Fatalf("CSP %q does not allow the served stylesheet (%s)", rec.Header().Get("Content-Security-Policy"), want)
	}
}

func TestProblemPagePassesOnOnlyValidRetryAfter(t *testing.T) {
	tests := []struct{ in, want string }{
		{"30", "30"},
		{"Wed, 21 Oct 2026 07:28:00 GMT", "Wed, 21 Oct 2026 07:28:00 GMT"},
		{"", ""},
		{"soon", ""},
		{"-5", ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		pages.WriteProblem(rec, pages.Problem{Status: 503, Heading: "Busy", RetryAfter: tt.in})
		if got := rec.Header().Get("Retry-After"); got != tt.want {
			t.Errorf("Retry-After for %q = %q, want %q", tt.in, got, tt.want)
		}
	}
}
