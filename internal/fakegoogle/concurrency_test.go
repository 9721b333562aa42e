package fakegoogle_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

func TestConcurrentUsersSeeOnlyTheirOwnLabels(t *testing.T) {
	t.Parallel()
	const users = 40
	// One account each: Google gives an account that consents again a
	// grant without a refresh token, and revoking ends all its grants.
	base := fakegoogle.DemoAccounts()
	var accounts []fakegoogle.Account
	for i := range users {
		a := base[i%len(base)]
		a.Email = fmt.Sprintf("user%d@example.com", i)
		a.Labels = append(slices.Clone(a.Labels), fakegoogle.Label{ID: "Label_own", Name: "Own label of " + a.Email, Type: "user"})
		accounts = append(accounts, a)
	}
	h := newHarness(t, fakegoogle.Options{Accounts: accounts})

	var wg sync.WaitGroup
	errs := make(chan error, users)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acct := accounts[i]
			errs <- func() error {
				u, verifier, state := h.authURL()
				cb, err := h.srv.Approve(u, acct.Email)
				if err != nil {
					return err
				}
				if cb.Query().Get("state") != state {
					return fmt.Errorf("user %d got another user's state", i)
				}
				tok, err := h.cfg.Exchange(h.ctx(), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
				if err != nil {
					return fmt.Errorf("user %d: exchange: %w", i, err)
				}
				svc := h.gmail(tok)
				for range 3 {
					res, err := svc.Users.Labels.List("me").Do()
					if err != nil {
						return fmt.Errorf("user %d: labels: %w", i, err)
					}
					if len(res.Labels) != len(acct.Labels) {
						return fmt.Errorf("user %d (%s) got %d labels, want %d", i, acct.Email, len(res.Labels), len(acct.Labels))
					}
					for j, l := range res.Labels {
						if l.Id != acct.Labels[j].ID || l.Name != acct.Labels[j].Name {
							return fmt.Errorf("user %d (%s) got label %q, want %q", i, acct.Email, l.Name, acct.Labels[j].Name)
						}
					}
				}
				if i%4 == 0 {
					if status, _ := revoke(t, h, tok.RefreshToken, false); status != 200 {
						return fmt.Errorf("user %d: revoke %d", i, status)
					}
				}
				return nil
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got := h.srv.Stats()
	if got.CodeExchanges != users || got.Consents != users || got.GmailRequests != 3*users ||
		got.Revocations != users/4 {
		t.Errorf("stats = %+v", got)
	}
	if n := len(h.srv.Secrets()); n != 1+3*users {
		t.Errorf("Secrets() has %d entries, want %d", n, 1+3*users)
	}
}
