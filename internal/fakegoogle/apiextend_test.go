package fakegoogle_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// notesScope is the scope of the example notes API that apis_test.go adds.
const notesScope = "https://www.googleapis.com/auth/tasks.readonly"

// notesOf lists the notes of the token's account through the example notes
// API of apis_test.go.
func notesOf(t *testing.T, h *harness, client *http.Client) (owner string, notes []string) {
	t.Helper()
	resp, err := client.Get(h.ts.URL + "/example/v1/notes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Owner string
		Notes []string
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("list notes: %d %v", resp.StatusCode, err)
	}
	return got.Owner, got.Notes
}

// addNote posts a note and returns the status.
func addNote(t *testing.T, h *harness, client *http.Client, body string) int {
	t.Helper()
	resp, err := client.Post(h.ts.URL+"/example/v1/notes", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestAnAPIFileGivesEachAccountItsOwnDataAndKeepsWhatAWriteChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, notesScope)
	alice := h.cfg.Client(h.ctx(), h.login("alice@example.com"))
	bob := h.cfg.Client(h.ctx(), h.login("bob@example.org"))

	if owner, notes := notesOf(t, h, alice); owner != "alice@example.com" || !slices.Equal(notes, []string{"Welcome, Alice Example"}) {
		t.Fatalf("alice's notes before: %s %q", owner, notes)
	}
	if status := addNote(t, h, alice, `{"text":"buy milk"}`); status != http.StatusOK {
		t.Fatalf("adding a note: %d", status)
	}
	if status := addNote(t, h, alice, `{"text":""}`); status != http.StatusBadRequest {
		t.Fatalf("adding an empty note: %d, want the method's own 400", status)
	}
	if _, notes := notesOf(t, h, alice); !slices.Equal(notes, []string{"Welcome, Alice Example", "buy milk"}) {
		t.Errorf("alice's notes after the write: %q", notes)
	}
	if _, notes := notesOf(t, h, bob); !slices.Equal(notes, []string{"Welcome, Bob Example"}) {
		t.Errorf("bob's notes changed with alice's: %q", notes)
	}
	// Another Server starts from each account's own data again.
	other := newHarness(t, fakegoogle.Options{}, notesScope)
	if _, notes := notesOf(t, other, other.cfg.Client(other.ctx(), other.login("alice@example.com"))); len(notes) != 1 {
		t.Errorf("a new Server shares another's notes: %q", notes)
	}
}

func TestAnAPIFilesMethodsAreAuthorizedAndAnswerJSONForOtherMethods(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	gmailOnly := h.cfg.Client(h.ctx(), h.login(""))
	tests := []struct {
		name       string
		client     *http.Client
		method     string
		wantStatus int
		wantBody   string
	}{
		{"no token", h.ts.Client(), http.MethodGet, http.StatusUnauthorized, `"reason":"authError"`},
		{"unknown token", h.staticClient("ya29.demo-unknown"), http.MethodPost, http.StatusUnauthorized, `"reason":"authError"`},
		{"token without the scope", gmailOnly, http.MethodGet, http.StatusForbidden, `"reason":"insufficientPermissions"`},
		{"write without the scope", gmailOnly, http.MethodPost, http.StatusForbidden, `"reason":"insufficientPermissions"`},
		{"method not served", gmailOnly, http.MethodDelete, http.StatusMethodNotAllowed, `"code":405`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, h.ts.URL+"/example/v1/notes", strings.NewReader(`{"text":"x"}`))
			resp, err := tt.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("status %d body %s, want %d with %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if tt.wantStatus == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, POST" {
				t.Errorf("Allow %q, want the methods the path serves", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestAPIBodiesAreCapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, notesScope)
	client := h.cfg.Client(h.ctx(), h.login(""))
	huge := `{"text":"` + strings.Repeat("x", 2<<20) + `"}`
	if status := addNote(t, h, client, huge); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 2 MiB body: %d, want 413", status)
	}
	if _, notes := notesOf(t, h, client); len(notes) != 1 {
		t.Errorf("the refused body was kept: %d notes", len(notes))
	}
}

// TestConcurrentWritesAndReadsOfAccountsAreSafe runs writes and reads of
// several accounts at once; with -race it fails on any unlocked access.
func TestConcurrentWritesAndReadsOfAccountsAreSafe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, notesScope)
	const perAccount = 20
	emails := []string{"alice@example.com", "bob@example.org"}
	var wg sync.WaitGroup
	for _, email := range emails {
		client := h.cfg.Client(h.ctx(), h.login(email))
		for i := range perAccount {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := client.Post(h.ts.URL+"/example/v1/notes", "application/json",
					strings.NewReader(fmt.Sprintf(`{"text":"note %d"}`, i)))
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Errorf("%s note %d: %v %v", email, i, resp, err)
					return
				}
				resp.Body.Close()
				if resp, err = client.Get(h.ts.URL + "/example/v1/notes"); err != nil || resp.StatusCode != http.StatusOK {
					t.Errorf("%s list: %v %v", email, resp, err)
					return
				}
				resp.Body.Close()
				_ = h.srv.Options() // reads every account
			}()
		}
	}
	wg.Wait()
	for _, email := range emails {
		if _, notes := notesOf(t, h, h.cfg.Client(h.ctx(), h.login(email))); len(notes) != 1+perAccount {
			t.Errorf("%s has %d notes, want %d", email, len(notes), 1+perAccount)
		}
	}
}
