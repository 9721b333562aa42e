package oauthgmail

import (
	"net/http"

	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/option"
)

// listLabels is all that ListLabels does itself: the app has found the
// user's token and hands over a client that sends it.
func listLabels(w http.ResponseWriter, r *http.Request, user *User) error {
	service, err := gmail.NewService(r.Context(), option.WithHTTPClient(user.Google))
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
		return writeJSON(w, http.StatusOK, map[string][]*gmail.Label{"labels": append([]*gmail.Label{}, list.Labels...)})
	}
	user.Page(w, http.StatusOK, "labels", newLabelsPage(list.Labels, r.URL.Query().Get("q"), user.Email))
	return nil
}
