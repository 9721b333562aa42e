package oauthgmail

import (
	"net/http"

	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/option"

	"example.com/gcf-oauth-gmail/internal/pages"
)

// ListLabels shows the signed-in user's Gmail labels, as a page or, for
// "Accept: application/json", as the JSON Gmail returned.
func ListLabels(w http.ResponseWriter, r *http.Request) {
	serveSignedIn(w, r, "listlabels", "Gmail", listLabels)
}

// listLabels is all that ListLabels does itself: serveSignedIn has found the
// user's token and hands over a client that sends it.
func listLabels(w http.ResponseWriter, r *http.Request, google *http.Client) error {
	service, err := gmail.NewService(r.Context(), option.WithHTTPClient(google))
	if err != nil {
		return err
	}
	call := service.Users.Labels.List("me").Context(r.Context())
	if !wantsJSON(r) {
		call.Fields(labelsFields) // all the page shows
	}
	list, err := call.Do()
	if err != nil {
		return err
	}
	if wantsJSON(r) {
		return writeJSON(w, map[string][]*gmail.Label{"labels": append([]*gmail.Label{}, list.Labels...)})
	}
	pages.Write(w, http.StatusOK, "labels", newLabelsPage(list.Labels, r.URL.Query().Get("q")))
	return nil
}
