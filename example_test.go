package oauthgmail

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/option"

	"example.com/gcf-oauth-gmail/internal/config"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/pages"
)

// listCalendars is a function as a user of this template adds one: it lists
// the names of the signed-in user's Google calendars. The app has found the
// user's token; the function only calls Calendar with it.
func listCalendars(w http.ResponseWriter, r *http.Request, user *User) error {
	service, err := calendar.NewService(r.Context(), option.WithHTTPClient(user.Google))
	if err != nil {
		return err
	}
	list, err := service.CalendarList.List().Fields("items(summary)").Context(r.Context()).Do()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// listCalendarsFunction is the entry listCalendars adds to Functions.
var listCalendarsFunction = Function{
	Name: "listcalendars", API: "Google Calendar", Services: []string{"calendar-json.googleapis.com"},
	Scopes: []string{calendar.CalendarReadonlyScope}, Call: listCalendars,
}

// emulateCalendarList gives the emulator Calendar's calendarList.list, the
// one method ListCalendars calls: the emulator checks the token and its
// scope as Google does, and the handler answers for the token's account.
func emulateCalendarList(google *fakegoogle.Server) {
	google.HandleAPI("GET /calendar/v3/users/me/calendarList", []string{calendar.CalendarReadonlyScope},
		func(w http.ResponseWriter, r *http.Request, account fakegoogle.Account) {
			items := []map[string]string{{"summary": account.Name}, {"summary": "Holidays"}}
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
		})
}

// serveExample serves the emulator google and the app with one more
// function, f, configured as an operator would: one setting sends every
// call to Google to the emulator. stop ends both.
func serveExample(google *fakegoogle.Server, f Function) (app *httptest.Server, stop func()) {
	googleServer := httptest.NewServer(google)
	mux := http.NewServeMux()
	app = httptest.NewServer(mux)
	google.AllowRedirectURI(app.URL + "/oauth2callback")
	env := map[string]string{
		"CLIENT_SECRET_JSON":  string(fakegoogle.ClientSecretJSON(googleServer.URL, google.Options())),
		"REDIRECT_URL":        app.URL + "/oauth2callback",
		"GOOGLE_API_ENDPOINT": googleServer.URL,
		"COOKIE_SECRET":       testKey,
	}
	settings, err := config.Load(func(name string) string { return env[name] }, nil)
	if err != nil {
		panic(err)
	}
	a, err := newApp(settings, appOptions{functions: append(Functions(), f)})
	if err != nil {
		panic(err)
	}
	mux.Handle("/", a.serveAll())
	return app, func() { app.Close(); googleServer.Close() }
}

// This example adds listcalendars to the app and follows a browser through
// it, end to end against the emulator of Google: a first visit is sent to
// sign in, the sign-in asks for Calendar access (and no more), and the
// browser comes back to listcalendars, which calls Calendar as the user.
func Example_newFunction() {
	google := fakegoogle.New(fakegoogle.Options{})
	emulateCalendarList(google)
	appServer, stop := serveExample(google, listCalendarsFunction)
	defer stop()

	// A browser that shows each redirect instead of following it.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	visit := func(target string) *http.Response {
		resp, err := browser.Get(target)
		if err != nil {
			panic(err)
		}
		return resp
	}

	resp := visit(appServer.URL + "/listcalendars")
	fmt.Println("first visit:", resp.StatusCode, resp.Header.Get("Location"))
	consent, _ := url.Parse(visit(appServer.URL + resp.Header.Get("Location")).Header.Get("Location"))
	// The sign-in asks for Calendar's scope, with those Google signs in
	// with, on top of anything granted before.
	fmt.Println("sign-in asks for:", strings.Join(slices.DeleteFunc(strings.Fields(consent.Query().Get("scope")), isSignInScope), " "))
	callback, err := google.Approve(consent.String(), "alice@example.com") // the user clicks Allow
	if err != nil {
		fmt.Println(err)
		return
	}
	resp = visit(callback.String())
	fmt.Println("signed in, back to:", resp.Header.Get("Location"))
	resp = visit(appServer.URL + resp.Header.Get("Location"))
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// first visit: 302 /oauth2init?next=listcalendars
	// sign-in asks for: https://www.googleapis.com/auth/calendar.readonly
	// signed in, back to: /listcalendars
	// 200 {"items":[{"summary":"Alice Example"},{"summary":"Holidays"}]}
}

func isSignInScope(s string) bool { return slices.Contains(signInScopes, s) }

// newLabel is a function that changes something: GET shows a form,
// and POST, which the app accepts only from its own pages, creates the Gmail
// label the form names and sends the browser to the labels with a notice.
func newLabel(w http.ResponseWriter, r *http.Request, user *User) error {
	if r.Method != http.MethodPost {
		user.Page(w, http.StatusOK, "form", pages.Form{
			Heading: "New label", Action: "/newlabel", Submit: "Create label",
			Fields: []pages.Field{{Name: "name", Label: "Name", Required: true, MaxLength: 225}},
		})
		return nil
	}
	service, err := gmail.NewService(r.Context(), option.WithHTTPClient(user.Google))
	if err != nil {
		return err
	}
	label, err := service.Users.Labels.Create("me", &gmail.Label{Name: r.PostFormValue("name")}).Context(r.Context()).Do()
	if err != nil {
		return err
	}
	if wantsJSON(r) {
		return writeJSON(w, http.StatusCreated, label)
	}
	user.SeeOther(w, "/listlabels", "Label “"+label.Name+"” created")
	return nil
}

// newLabelFunction is the entry newLabel adds to Functions.
var newLabelFunction = Function{
	Name: "newlabel", API: "Gmail", Services: []string{"gmail.googleapis.com"},
	Scopes:  []string{gmail.GmailLabelsScope},
	Methods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
	Call:    newLabel,
}

// This example adds newlabel to the app and follows a browser through
// it against the emulator of Google: the sign-in asks for label access
// only, the form's POST creates the label and leaves a notice, the labels
// page then asks for read access on top, and Gmail's answer to a duplicate
// name becomes a 409 page, or JSON for a JSON client.
func Example_changeThroughAForm() {
	google := fakegoogle.New(fakegoogle.Options{})
	appServer, stop := serveExample(google, newLabelFunction)
	defer stop()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path string, form url.Values, header ...string) (*http.Response, string) {
		req, _ := http.NewRequest(method, appServer.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := browser.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	// signIn follows a redirect to oauth2init, approves on Google's
	// consent page as alice and prints what was asked for.
	signIn := func(location string) string {
		resp, _ := send(http.MethodGet, location, nil)
		consent, _ := url.Parse(resp.Header.Get("Location"))
		fmt.Println("  asks for:", strings.Join(slices.DeleteFunc(strings.Fields(consent.Query().Get("scope")), isSignInScope), " "),
			"include_granted_scopes="+consent.Query().Get("include_granted_scopes"))
		callback, err := google.Approve(consent.String(), "alice@example.com")
		if err != nil {
			panic(err)
		}
		resp, _ = send(http.MethodGet, strings.TrimPrefix(callback.String(), appServer.URL), nil)
		return resp.Header.Get("Location")
	}

	resp, _ := send(http.MethodGet, "/newlabel", nil)
	fmt.Println("form, signed out:", resp.StatusCode, resp.Header.Get("Location"))
	fmt.Println("  back at:", signIn(resp.Header.Get("Location")))
	resp, body := send(http.MethodGet, "/newlabel", nil)
	fmt.Println("form:", resp.StatusCode, strings.Contains(body, `action="/newlabel"`))

	resp, _ = send(http.MethodPost, "/newlabel", url.Values{"name": {"Tax 2027"}}, "Sec-Fetch-Site", "cross-site")
	fmt.Println("post from another site:", resp.StatusCode)
	resp, _ = send(http.MethodPost, "/newlabel", url.Values{"name": {"Tax 2027"}}, "Sec-Fetch-Site", "same-origin")
	fmt.Println("post:", resp.StatusCode, resp.Header.Get("Location"))

	resp, _ = send(http.MethodGet, "/listlabels", nil)
	fmt.Println("labels:", resp.StatusCode, resp.Header.Get("Location"))
	fmt.Println("  back at:", signIn(resp.Header.Get("Location")))
	resp, body = send(http.MethodGet, "/listlabels", nil)
	fmt.Println("labels:", resp.StatusCode, strings.Contains(body, "Label “Tax 2027” created"), strings.Contains(body, ">Tax 2027<"))
	_, body = send(http.MethodGet, "/listlabels", nil)
	fmt.Println("notice shown again:", strings.Contains(body, "created"))

	resp, _ = send(http.MethodPost, "/newlabel", url.Values{"name": {"Tax 2027"}}, "Sec-Fetch-Site", "same-origin")
	fmt.Println("same name again:", resp.StatusCode)
	_, body = send(http.MethodPost, "/newlabel", url.Values{"name": {"Tax 2027"}}, "Sec-Fetch-Site", "same-origin", "Accept", "application/json")
	fmt.Println("as JSON:", body)
	// Output:
	// form, signed out: 302 /oauth2init?next=newlabel
	//   asks for: https://www.googleapis.com/auth/gmail.labels include_granted_scopes=true
	//   back at: /newlabel
	// form: 200 true
	// post from another site: 403
	// post: 303 /listlabels
	// labels: 302 /oauth2init
	//   asks for: https://www.googleapis.com/auth/gmail.readonly include_granted_scopes=true
	//   back at: /listlabels
	// labels: 200 true true
	// notice shown again: false
	// same name again: 409
	// as JSON: {"error":{"code":409,"message":"That already exists in Gmail. Nothing was changed. Google said: “Label name exists or conflicts”. Please choose another name."}}
}
