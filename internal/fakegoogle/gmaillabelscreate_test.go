package fakegoogle_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

const wantLabelExistsBody = `{"error":{"code":409,"message":"Label name exists or conflicts","errors":[{"message":"Label name exists or conflicts","domain":"global","reason":"duplicate"}],"status":"ALREADY_EXISTS"}}`

// labelNames lists the names of the token's account's labels.
func labelNames(t *testing.T, svc *gmail.Service) []string {
	t.Helper()
	res, err := svc.Users.Labels.List("me").Do()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var names []string
	for _, l := range res.Labels {
		names = append(names, l.Name)
	}
	return names
}

func TestCreatedLabelIsInTheNextListOfItsAccountOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, gmail.GmailLabelsScope)
	alice := h.gmail(h.login("alice@example.com"))
	bob := h.gmail(h.login("bob@example.org"))
	before := len(labelNames(t, alice))

	created, err := alice.Users.Labels.Create("me", &gmail.Label{
		Name:  "Projects/Zeta",
		Color: &gmail.LabelColor{BackgroundColor: "#FB4C2F", TextColor: "#ffffff"},
	}).Do()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.HTTPStatusCode != http.StatusOK || created.Name != "Projects/Zeta" || created.Type != "user" ||
		created.LabelListVisibility != "labelShow" || created.MessageListVisibility != "show" ||
		created.Color == nil || created.Color.BackgroundColor != "#fb4c2f" {
		t.Fatalf("created %+v (color %+v), want a user label with Gmail's defaults", created, created.Color)
	}
	next := 0
	for _, l := range h.account("alice@example.com").Labels {
		if n, err := strconv.Atoi(strings.TrimPrefix(l.ID, "Label_")); err == nil {
			next = max(next, n+1)
		}
	}
	if want := "Label_" + strconv.Itoa(next); created.Id != want {
		t.Errorf("id %q, want %s, after alice's own labels", created.Id, want)
	}
	second, err := alice.Users.Labels.Create("me", &gmail.Label{Name: "Second", LabelListVisibility: "labelHide"}).Do()
	if err != nil || second.Id != "Label_"+strconv.Itoa(next+1) || second.LabelListVisibility != "labelHide" {
		t.Fatalf("second create: %+v %v", second, err)
	}
	names := labelNames(t, alice)
	if len(names) != before+2 || names[before] != "Projects/Zeta" || names[before+1] != "Second" {
		t.Errorf("alice's labels after two creates: %q", names)
	}
	for _, n := range labelNames(t, bob) {
		if n == "Projects/Zeta" {
			t.Error("bob sees alice's new label")
		}
	}
	if acct := h.srv.Options().Accounts[0]; acct.Labels[len(acct.Labels)-1].Name != "Second" {
		t.Errorf("Options().Accounts does not show the created label")
	}
}

func TestCreateLabelAnswersLikeGmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		label      *gmail.Label
		wantStatus int
		wantMsg    string
	}{
		{"same name", &gmail.Label{Name: "Receipts"}, http.StatusConflict, "Label name exists or conflicts"},
		{"same name in other case", &gmail.Label{Name: "rECEIPTS"}, http.StatusConflict, "Label name exists or conflicts"},
		{"a nested name that exists", &gmail.Label{Name: "Travel/2026"}, http.StatusConflict, "Label name exists or conflicts"},
		{"empty name", &gmail.Label{Name: ""}, http.StatusBadRequest, "Invalid label name"},
		{"blank name", &gmail.Label{Name: "   "}, http.StatusBadRequest, "Invalid label name"},
		{"empty level", &gmail.Label{Name: "Travel//x"}, http.StatusBadRequest, "Invalid label name"},
		{"trailing slash", &gmail.Label{Name: "Travel/"}, http.StatusBadRequest, "Invalid label name"},
		{"control character", &gmail.Label{Name: "a\nb"}, http.StatusBadRequest, "Invalid label name"},
		{"too long", &gmail.Label{Name: strings.Repeat("é", 226)}, http.StatusBadRequest, "Invalid label name"},
		{"a system label's name", &gmail.Label{Name: "Inbox"}, http.StatusBadRequest, "Invalid label name"},
		{"a color off the palette", &gmail.Label{Name: "Red", Color: &gmail.LabelColor{BackgroundColor: "#ff0000", TextColor: "#ffffff"}}, http.StatusBadRequest, "palette"},
		{"half a color", &gmail.Label{Name: "Red", Color: &gmail.LabelColor{BackgroundColor: "#fb4c2f"}}, http.StatusBadRequest, "palette"},
		{"a bad visibility", &gmail.Label{Name: "Hidden", LabelListVisibility: "invisible"}, http.StatusBadRequest, "visibility"},
		{"the longest name", &gmail.Label{Name: strings.Repeat("é", 225)}, http.StatusOK, ""},
	}
	h := newHarness(t, fakegoogle.Options{}, "https://www.googleapis.com/auth/gmail.modify")
	svc := h.gmail(h.login("alice@example.com"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(labelNames(t, svc))
			_, err := svc.Users.Labels.Create("me", tt.label).Do()
			var gerr *googleapi.Error
			switch {
			case tt.wantStatus == http.StatusOK:
				if err != nil {
					t.Fatalf("create: %v", err)
				}
				return
			case !errors.As(err, &gerr):
				t.Fatalf("err %v, want a Google API error %d", err, tt.wantStatus)
			case gerr.Code != tt.wantStatus || !strings.Contains(gerr.Message, tt.wantMsg):
				t.Errorf("error %d %q, want %d with %q", gerr.Code, gerr.Message, tt.wantStatus, tt.wantMsg)
			}
			if after := len(labelNames(t, svc)); after != before {
				t.Errorf("a refused create changed the labels: %d, then %d", before, after)
			}
		})
	}
}

func TestCreateLabelConflictHasGmailsBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, "https://mail.google.com/")
	client := h.cfg.Client(h.ctx(), h.login("bob@example.org"))
	resp, err := client.Post(h.ts.URL+fakegoogle.LabelsPath, "application/json", strings.NewReader(`{"name":"Family"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || string(body) != wantLabelExistsBody {
		t.Errorf("got %d %s\nwant 409 %s", resp.StatusCode, body, wantLabelExistsBody)
	}
	for _, body := range []string{`{"name":`, `{"name":"x","unknown":1}`, `{"name":"x"} {}`} {
		resp, err := client.Post(h.ts.URL+fakegoogle.LabelsPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("body %s: %d, want 400", body, resp.StatusCode)
		}
	}
}

func TestCreateLabelNeedsAWriteScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scope string
		want  int
	}{
		{gmail.GmailReadonlyScope, http.StatusForbidden},
		{gmail.GmailMetadataScope, http.StatusForbidden},
		{gmail.GmailLabelsScope, http.StatusOK},
		{gmail.GmailModifyScope, http.StatusOK},
		{gmail.MailGoogleComScope, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakegoogle.Options{}, tt.scope)
			_, err := h.gmail(h.login("")).Users.Labels.Create("me", &gmail.Label{Name: "New"}).Do()
			var gerr *googleapi.Error
			switch {
			case tt.want == http.StatusOK && err != nil:
				t.Errorf("create: %v", err)
			case tt.want != http.StatusOK && (!errors.As(err, &gerr) || gerr.Code != tt.want ||
				!strings.Contains(err.Error(), "insufficientPermissions")):
				t.Errorf("err %v, want %d insufficientPermissions", err, tt.want)
			}
		})
	}
}

func TestCreateLabelForAnotherUserIsDenied(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, gmail.GmailLabelsScope)
	_, err := h.gmail(h.login("alice@example.com")).Users.Labels.Create("bob@example.org", &gmail.Label{Name: "x"}).Do()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != http.StatusForbidden {
		t.Errorf("err %v, want 403", err)
	}
}

func TestConcurrentCreatesGetDistinctIDsAndAllAreListed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, gmail.GmailLabelsScope)
	svc := h.gmail(h.login("mallory@example.com"))
	before := len(labelNames(t, svc))
	const n = 30
	ids := make(chan string, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			l, err := svc.Users.Labels.Create("me", &gmail.Label{Name: fmt.Sprintf("Batch/%d", i)}).Do()
			if err != nil {
				t.Errorf("create %d: %v", i, err)
				return
			}
			ids <- l.Id
		}()
		go func() {
			defer wg.Done()
			// Half of them ask for a name another goroutine creates too.
			_, err := svc.Users.Labels.Create("me", &gmail.Label{Name: fmt.Sprintf("Shared/%d", i/2)}).Do()
			var gerr *googleapi.Error
			if err != nil && (!errors.As(err, &gerr) || gerr.Code != http.StatusConflict) {
				t.Errorf("shared create %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("id %s given twice", id)
		}
		seen[id] = true
	}
	if got, want := len(labelNames(t, svc)), before+n+n/2; got != want {
		t.Errorf("%d labels after the creates, want %d", got, want)
	}
}
