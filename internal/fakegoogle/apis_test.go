package fakegoogle

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestNewServesTheAPIsFilesAddInInit registers a method as a file of the
// package would, and checks that a new Server serves it, with Google's
// authorization in front. It changes the package's list, so it must not run
// in parallel with tests that call New.
func TestNewServesTheAPIsFilesAddInInit(t *testing.T) {
	saved := apis
	t.Cleanup(func() { apis = saved })
	apis = append(apis[:len(apis):len(apis)], api{
		pattern: "GET /tasks/v1/users/@me/lists",
		scopes:  []string{"https://www.googleapis.com/auth/tasks.readonly"},
		handle: func(w http.ResponseWriter, r *http.Request, account Account) {
			_, _ = io.WriteString(w, `{"items":[{"title":"`+account.Name+`"}]}`)
		},
	})
	s := New(Options{})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/tasks/v1/users/@me/lists", nil))
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"reason":"authError"`) {
		t.Fatalf("without a token: %d %s, want Google's 401 (the method is served, behind authorization)", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/tasks/v1/users/@me/other", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("an unregistered path: %d, want 404", rec.Code)
	}
}
