package oauthgmail

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/logging"
)

// manyAccounts returns n accounts, each with a label only it has.
func manyAccounts(n int) []fakegoogle.Account {
	accounts := make([]fakegoogle.Account, n)
	for i := range accounts {
		accounts[i] = fakegoogle.Account{
			Email: fmt.Sprintf("user%03d@example.com", i),
			Name:  fmt.Sprintf("User %d", i),
			Labels: []fakegoogle.Label{
				{ID: "INBOX", Name: "INBOX", Type: "system"},
				{ID: fmt.Sprintf("Label_%d", i), Name: fmt.Sprintf("only-user%03d", i), Type: "user"},
			},
		}
	}
	return accounts
}

func TestConcurrentUsersSeeOnlyTheirOwnLabels(t *testing.T) {
	const users = 40
	e := newTestEnv(t, func(c *envConfig) { c.google.Accounts = manyAccounts(users) })
	var wg sync.WaitGroup
	errs := make(chan error, users)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.checkUserSeesOwnLabels(i, users)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// checkUserSeesOwnLabels signs user i in and lists labels three times; it
// returns an error rather than failing so it can run on any goroutine.
func (e *testEnv) checkUserSeesOwnLabels(i, users int) error {
	b := e.newBrowser()
	email := fmt.Sprintf("user%03d@example.com", i)
	cb, err := e.google.Approve(b.startSignIn(), email)
	if err != nil {
		return err
	}
	if r := b.get(cb.String()); r.status != http.StatusFound {
		return fmt.Errorf("%s: callback status %d", email, r.status)
	}
	for range 3 {
		r := b.get("/listlabels")
		if r.status != http.StatusOK {
			return fmt.Errorf("%s: listlabels status %d", email, r.status)
		}
		for j := range users {
			mine := fmt.Sprintf("only-user%03d", j)
			if has := strings.Contains(r.body, mine); has != (j == i) {
				return fmt.Errorf("%s: page contains %s = %v", email, mine, has)
			}
		}
	}
	return nil
}

// TestThreeSeparatelyConfiguredInstancesCompleteOneFlow runs each function
// in its own app, as Cloud Functions runs them, sharing only COOKIE_SECRET,
// behind one host that routes by path.
func TestThreeSeparatelyConfiguredInstancesCompleteOneFlow(t *testing.T) {
	tests := []struct {
		name        string
		callbackKey string
		wantSignIn  bool
	}{
		{"shared key", testKey, true},
		{"callback instance with another key", strings.Repeat("C", 43), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			front := http.NewServeMux()
			// Each instance has its own settings, transport and clients.
			instance := func(key string) *app {
				vars := appVars(e.server.URL, e.googleURL, e.google.Options(), map[string]string{"COOKIE_SECRET": key})
				return buildApp(t, vars, appOptions{logger: logging.New(e.logs, "")})
			}
			front.Handle("/oauth2init", instance(testKey).handler("oauth2init"))
			front.Handle("/oauth2callback", instance(tt.callbackKey).handler("oauth2callback"))
			front.Handle("/listlabels", instance(testKey).handler("listlabels"))
			e.server.Config.Handler = front

			b := e.newBrowser()
			r := b.get(b.consent(b.startSignIn(), demoEmail))
			if !tt.wantSignIn {
				if r.status != http.StatusBadRequest || e.google.Stats().TokenRequests != 0 {
					t.Fatalf("callback with another key: status %d, %d token requests; want 400 and none", r.status, e.google.Stats().TokenRequests)
				}
				return
			}
			if r.status != http.StatusFound {
				t.Fatalf("callback status %d", r.status)
			}
			if labels := b.get("/listlabels"); labels.status != http.StatusOK || !strings.Contains(labels.body, "label(s) found") {
				t.Fatalf("listlabels status %d", labels.status)
			}
		})
	}
}
