package oauthgmail

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/option"
)

// listDriveFiles is a read function as an adopter adds one: the names of the
// user's Drive files, as JSON.
func listDriveFiles(w http.ResponseWriter, r *http.Request, user *User) error {
	service, err := drive.NewService(r.Context(), option.WithHTTPClient(user.Google))
	if err != nil {
		return err
	}
	list, err := service.Files.List().Context(r.Context()).Do()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

var listDriveFilesFunction = Function{
	Name: "drivefiles", API: "Google Drive", Services: []string{"drive.googleapis.com"},
	Scopes: []string{drive.DriveMetadataReadonlyScope}, Call: listDriveFiles,
}

// withAdoptedFunctions is the app with a Drive read function and a Gmail
// write function added, as the README says to add them.
func withAdoptedFunctions(c *envConfig) {
	c.functions = append(Functions(), listDriveFilesFunction, newLabelFunction)
}

// askedScopes returns the scopes an authorization URL asks for, less those
// every sign-in asks for, and whether it asks for incremental
// authorization.
func askedScopes(t *testing.T, authURL string) (string, bool) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	return strings.Join(slices.DeleteFunc(strings.Fields(q.Get("scope")), isSignInScope), " "), q.Get("include_granted_scopes") == "true"
}

func TestEachFunctionAsksForItsOwnScopesWhenFirstUsed(t *testing.T) {
	e := newTestEnv(t, withAdoptedFunctions)
	b := e.newBrowser()

	// Signing in at /listlabels asks for Gmail read access only.
	r := b.get("/listlabels")
	auth := b.get(r.location()).location()
	if scopes, incremental := askedScopes(t, auth); scopes != gmail.GmailReadonlyScope || !incremental {
		t.Fatalf("the first sign-in asks for %q (incremental %v), want %q alone, incrementally", scopes, incremental, gmail.GmailReadonlyScope)
	}
	if r := b.get(b.consent(auth, demoEmail)); r.location() != "/listlabels" {
		t.Fatalf("back at %q, want /listlabels", r.location())
	}

	// /drivefiles then asks for Drive only, for the same account.
	r = b.get("/drivefiles")
	if r.status != http.StatusFound || r.location() != "/oauth2init?next=drivefiles" {
		t.Fatalf("/drivefiles without Drive access: %d %q, want 302 to sign in for it", r.status, r.location())
	}
	auth = b.get(r.location()).location()
	if scopes, incremental := askedScopes(t, auth); scopes != drive.DriveMetadataReadonlyScope || !incremental {
		t.Fatalf("the Drive sign-in asks for %q (incremental %v), want %q alone, incrementally", scopes, incremental, drive.DriveMetadataReadonlyScope)
	}
	if u, _ := url.Parse(auth); u.Query().Get("login_hint") != demoEmail {
		t.Errorf("the Drive sign-in does not hint the signed-in account: %s", u.RawQuery)
	}

	// The person unticks Drive: listlabels keeps working, drivefiles says
	// what is missing and offers to ask again.
	callback, err := e.google.ApproveScopes(auth, demoEmail, signInScopes)
	if err != nil {
		t.Fatal(err)
	}
	r = b.get(callback.String())
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "See information about your Google Drive files") ||
		!strings.Contains(r.body, `href="/oauth2init?next=drivefiles"`) {
		t.Fatalf("Drive unticked: status %d, want 403 naming the Drive access with a link to ask again; body %q", r.status, r.body)
	}
	if r := b.get("/listlabels"); r.status != http.StatusOK {
		t.Fatalf("/listlabels after Drive was refused: status %d, want 200", r.status)
	}

	// Asked again, the person ticks it: both work.
	auth = b.get(b.get("/drivefiles").location()).location()
	if r := b.get(b.consent(auth, demoEmail)); r.location() != "/drivefiles" {
		t.Fatalf("after granting Drive, back at %q, want /drivefiles", r.location())
	}
	r = b.get("/drivefiles")
	var files drive.FileList
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &files) != nil || len(files.Files) == 0 {
		t.Fatalf("/drivefiles: status %d body %q, want the files", r.status, r.body)
	}
	if r := b.get("/listlabels"); r.status != http.StatusOK {
		t.Fatalf("/listlabels after Drive was granted: status %d", r.status)
	}
}

func TestIncrementalGrantKeepsTheRefreshToken(t *testing.T) {
	e := newTestEnv(t, withAdoptedFunctions, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
	b := e.newBrowser()
	b.signIn(demoEmail)
	first := b.session().Token.RefreshToken
	if first == "" {
		t.Fatal("the first offline sign-in kept no refresh token")
	}
	auth := b.get(b.get("/drivefiles").location()).location()
	if u, _ := url.Parse(auth); strings.Contains(u.Query().Get("prompt"), "consent") {
		t.Errorf("asking for more scopes forced the consent screen although the session has a refresh token: %s", u.RawQuery)
	}
	b.get(b.consent(auth, demoEmail))
	if got := b.session(); got.Token.RefreshToken != first || !slices.Contains(got.Scopes, drive.DriveMetadataReadonlyScope) ||
		!slices.Contains(got.Scopes, gmail.GmailReadonlyScope) {
		t.Fatalf("after the incremental grant: refresh token kept %v, scopes %q; want the first refresh token and both scopes", got.Token.RefreshToken == first, got.Scopes)
	}
	if e.google.IsRevoked(first) {
		t.Fatal("the incremental grant revoked the session's refresh token")
	}
}

func TestAGrantThatServesNoFunctionKeepsNothing(t *testing.T) {
	e := newTestEnv(t, withAdoptedFunctions)
	b := e.newBrowser()
	auth := b.startSignIn()
	callback, err := e.google.ApproveScopes(auth, demoEmail, signInScopes)
	if err != nil {
		t.Fatal(err)
	}
	r := b.get(callback.String())
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "View your email messages and settings") {
		t.Fatalf("status %d, want 403 naming the Gmail access; body %q", r.status, r.body)
	}
	if c := r.cookie(sessionCookie); c != nil && c.MaxAge > 0 {
		t.Fatal("a session that serves no function was kept")
	}
	if n := e.google.Stats().Revocations; n != 1 {
		t.Fatalf("%d revocations, want the useless token given back", n)
	}
	if next := b.startSignIn(); !strings.Contains(next, "prompt=consent") {
		t.Fatalf("the next sign-in does not show the consent screen again: %s", next)
	}
}

func TestWritesComeOnlyFromTheAppsOwnPages(t *testing.T) {
	e := newTestEnv(t, withAdoptedFunctions)
	b := e.newBrowser()
	b.signIn(demoEmail)
	b.get(b.consent(b.get(b.get("/newlabel").location()).location(), demoEmail))
	before := len(b.labels())

	for _, tt := range []struct {
		name   string
		form   url.Values
		site   string
		header []string
		want   int
	}{
		{"cross-site", url.Values{"name": {"Evil"}}, "cross-site", nil, http.StatusForbidden},
		{"cross-site, JSON", url.Values{"name": {"Evil"}}, "cross-site", []string{"Accept", "application/json"}, http.StatusForbidden},
		{"a form over the cap", url.Values{"name": {strings.Repeat("x", maxFormBytes)}}, "same-origin", nil, http.StatusRequestEntityTooLarge},
		{"Gmail's 400 for a name it refuses", url.Values{"name": {""}}, "same-origin", nil, http.StatusBadRequest},
		{"Gmail's 409 for a name that exists", url.Values{"name": {"Receipts"}}, "same-origin", nil, http.StatusConflict},
	} {
		r := b.post("/newlabel", tt.form, tt.site, tt.header...)
		if r.status != tt.want {
			t.Errorf("%s: status %d, want %d; body %q", tt.name, r.status, tt.want, r.body)
		}
		if slices.Contains(tt.header, "application/json") {
			var body struct {
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if json.Unmarshal([]byte(r.body), &body) != nil || body.Error.Code != tt.want || body.Error.Message == "" {
				t.Errorf("%s: a JSON client got %q, want {\"error\":{\"code\":%d,\"message\":...}}", tt.name, r.body, tt.want)
			}
		}
	}
	notForm := http.Header{"Sec-Fetch-Site": {"same-origin"}, "Content-Type": {"application/x-www-form-urlencoded"}}
	if r := b.send(http.MethodPost, "/newlabel", strings.NewReader("name=%zz"), notForm); r.status != http.StatusBadRequest {
		t.Errorf("a body that is not a form: status %d, want 400", r.status)
	}
	if r := b.post("/newlabel", url.Values{"name": {"Receipts"}}, "same-origin"); !strings.Contains(r.body, "Label name exists or conflicts") {
		t.Errorf("the 409 page does not quote Gmail's message: %q", r.body)
	}
	if after := len(b.labels()); after != before {
		t.Fatalf("%d labels after refused changes, want %d", after, before)
	}
	if r := b.do(http.MethodDelete, "/newlabel", nil); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD, POST" {
		t.Fatalf("DELETE: status %d Allow %q, want 405 with GET, HEAD, POST", r.status, r.header.Get("Allow"))
	}
}

func TestAChangeLeavesANoticeShownOnce(t *testing.T) {
	e := newTestEnv(t, withAdoptedFunctions)
	b := e.newBrowser()
	b.signIn(demoEmail)
	b.get(b.consent(b.get(b.get("/newlabel").location()).location(), demoEmail))
	r := b.post("/newlabel", url.Values{"name": {"<b>Tax</b> 2027"}}, "same-origin")
	if r.status != http.StatusSeeOther || r.location() != "/listlabels" {
		t.Fatalf("POST: status %d location %q, want 303 /listlabels", r.status, r.location())
	}
	page := b.get("/listlabels").body
	if !strings.Contains(page, "Label “&lt;b&gt;Tax&lt;/b&gt; 2027” created") {
		t.Fatalf("the notice is not shown, escaped: %q", page)
	}
	if again := b.get("/listlabels").body; strings.Contains(again, "created") {
		t.Fatal("the notice is shown a second time")
	}
	// A notice cookie made elsewhere does not open.
	b.setCookie("oauth_notice", "forged")
	if page := b.get("/listlabels").body; strings.Contains(page, `id="notice"`) {
		t.Fatal("a forged notice was shown")
	}
}

func TestAChangeWithoutASessionSignsInFirst(t *testing.T) {
	e := newTestEnv(t, withAdoptedFunctions)
	b := e.newBrowser()
	r := b.post("/newlabel", url.Values{"name": {"X"}}, "same-origin")
	if r.status != http.StatusFound || r.location() != "/oauth2init?next=newlabel" {
		t.Fatalf("POST without a session: %d %q, want 302 to sign in for newlabel", r.status, r.location())
	}
}
