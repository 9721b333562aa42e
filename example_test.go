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
	"google.golang.org/api/option"

	"example.com/gcf-oauth-gmail/internal/config"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
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

// This example adds listcalendars to the app and follows a browser through
// it, end to end against the emulator of Google: a first visit is sent to
// sign in, the sign-in asks for Calendar access (and no more), and the
// browser comes back to listcalendars, which calls Calendar as the user.
func Example_newFunction() {
	google := fakegoogle.New(fakegoogle.Options{})
	emulateCalendarList(google)
	googleServer := httptest.NewServer(google)
	defer googleServer.Close()

	// The app with one more function, configured as an operator would; one
	// setting sends every call to Google to the emulator.
	mux := http.NewServeMux()
	appServer := httptest.NewServer(mux)
	defer appServer.Close()
	google.AllowRedirectURI(appServer.URL + "/oauth2callback")
	env := map[string]string{
		"CLIENT_SECRET_JSON":  string(fakegoogle.ClientSecretJSON(googleServer.URL, google.Options())),
		"REDIRECT_URL":        appServer.URL + "/oauth2callback",
		"GOOGLE_API_ENDPOINT": googleServer.URL,
		"COOKIE_SECRET":       testKey,
	}
	settings, err := config.Load(func(name string) string { return env[name] }, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := newApp(settings, appOptions{functions: append(Functions(), listCalendarsFunction)})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux.Handle("/", a.serveAll())

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
