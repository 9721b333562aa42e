package oauthgmail

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/option"

	"example.com/gcf-oauth-gmail/internal/config"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// ListFiles is a function as a user of this template adds one: it lists the
// names of the signed-in user's Google Drive files. Its whole plumbing is
// the call to serveSignedIn.
func ListFiles(w http.ResponseWriter, r *http.Request) {
	serveSignedIn(w, r, "listfiles", "Google Drive", listFiles)
}

func listFiles(w http.ResponseWriter, r *http.Request, google *http.Client) error {
	service, err := drive.NewService(r.Context(), option.WithHTTPClient(google))
	if err != nil {
		return err
	}
	list, err := service.Files.List().Fields("files(name)").PageSize(10).Context(r.Context()).Do()
	if err != nil {
		return err
	}
	return writeJSON(w, list)
}

// listFilesFunction is the line ListFiles adds to Functions.
var listFilesFunction = Function{Name: "listfiles", Handler: ListFiles, Scopes: []string{drive.DriveMetadataReadonlyScope}}

// emulateDriveFiles gives the emulator Drive's files.list, the one method
// ListFiles calls: the emulator checks the token and its scope as Google
// does, and the handler answers for the token's account.
func emulateDriveFiles(google *fakegoogle.Server) {
	google.HandleAPI("GET /drive/v3/files", []string{drive.DriveMetadataReadonlyScope},
		func(w http.ResponseWriter, r *http.Request, account fakegoogle.Account) {
			files := []map[string]string{{"name": "Budget 2026"}, {"name": "Notes of " + account.Name}}
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			_ = json.NewEncoder(w).Encode(map[string]any{"files": files})
		})
}

// This example adds ListFiles to the app and follows a browser through it,
// end to end against the emulator of Google: a first visit is sent to sign
// in, the sign-in asks for Drive access besides Gmail, and the browser comes
// back to ListFiles, which calls Drive as the user.
func Example_newFunction() {
	google := fakegoogle.New(fakegoogle.Options{})
	emulateDriveFiles(google)
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
	a, err := newApp(settings, appOptions{functions: append(Functions(), listFilesFunction)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range a.functions {
		mux.Handle("/"+f.Name, a.bind(f.Handler))
	}

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

	resp := visit(appServer.URL + "/listfiles")
	fmt.Println("first visit:", resp.StatusCode, resp.Header.Get("Location"))
	consent, _ := url.Parse(visit(appServer.URL + resp.Header.Get("Location")).Header.Get("Location"))
	fmt.Println("sign-in asks for:", consent.Query().Get("scope"))
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
	// first visit: 302 /oauth2init?next=listfiles
	// sign-in asks for: https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/drive.metadata.readonly
	// signed in, back to: /listfiles
	// 200 {"files":[{"name":"Budget 2026"},{"name":"Notes of Alice Example"}]}
}
