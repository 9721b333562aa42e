package fakegoogle_test

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

func TestFullFlowListsTheChosenAccountsLabels(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	for _, acct := range fakegoogle.DemoAccounts() {
		t.Run(acct.Email, func(t *testing.T) {
			tok := h.login(acct.Email)
			if !strings.HasPrefix(tok.AccessToken, "ya29.demo-") {
				t.Errorf("access token %q lacks Google's prefix", tok.AccessToken)
			}
			if !strings.HasPrefix(tok.RefreshToken, "1//demo-") {
				t.Errorf("refresh token %q: want one with Google's prefix for offline access", tok.RefreshToken)
			}
			if tok.TokenType != "Bearer" {
				t.Errorf("token_type = %q, want Bearer", tok.TokenType)
			}
			if left := time.Until(tok.Expiry); left < 59*time.Minute || left > time.Hour {
				t.Errorf("token expires in %v, want about an hour", left)
			}
			if got := tok.Extra("scope"); got != gmail.GmailReadonlyScope {
				t.Errorf("scope = %v, want %s", got, gmail.GmailReadonlyScope)
			}

			svc := h.gmail(tok)
			res, err := svc.Users.Labels.List("me").Do()
			if err != nil {
				t.Fatalf("Labels.List: %v", err)
			}
			if len(res.Labels) != len(acct.Labels) {
				t.Fatalf("got %d labels, want %d", len(res.Labels), len(acct.Labels))
			}
			for i, want := range acct.Labels {
				got := res.Labels[i]
				if got.Id != want.ID || got.Name != want.Name || got.Type != want.Type ||
					got.MessageListVisibility != want.MessageListVisibility || got.LabelListVisibility != want.LabelListVisibility {
					t.Errorf("label %d = %+v, want %+v", i, got, want)
				}
				if (got.Color == nil) != (want.Color == nil) ||
					(got.Color != nil && (got.Color.TextColor != want.Color.TextColor || got.Color.BackgroundColor != want.Color.BackgroundColor)) {
					t.Errorf("label %d color = %+v, want %+v", i, got.Color, want.Color)
				}
			}
		})
	}
}

func TestCallbackCarriesStateAndScope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	u, _, state := h.authURL()
	cb, err := h.srv.Approve(u, "bob@example.org")
	if err != nil {
		t.Fatal(err)
	}
	q := cb.Query()
	if q.Get("state") != state || q.Get("scope") != gmail.GmailReadonlyScope || !strings.HasPrefix(q.Get("code"), "4/demo-") {
		t.Errorf("callback query = %v", q)
	}
	if len(q) != 3 {
		t.Errorf("callback has parameters %v, want only code, state and scope", q)
	}
}

func TestCallbackOmitsStateWhenNoneWasSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	u := h.cfg.AuthCodeURL("", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	for _, decide := range []func() error{
		func() error { cb, err := h.srv.Approve(u, ""); checkNoState(t, cb); return err },
		func() error { cb, err := h.srv.Deny(u); checkNoState(t, cb); return err },
	} {
		if err := decide(); err != nil {
			t.Fatal(err)
		}
	}
}

func checkNoState(t *testing.T, cb *url.URL) {
	t.Helper()
	if cb == nil {
		return
	}
	if _, ok := cb.Query()["state"]; ok {
		t.Errorf("callback has a state although the request had none")
	}
}

func TestOnlineAccessGetsNoRefreshToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	verifier := oauth2.GenerateVerifier()
	u := h.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("access_type", "online"))
	code := h.approve(u, "", "st")
	tok, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Errorf("online access returned refresh token %q", tok.RefreshToken)
	}
}

func TestApproveWithoutEmailPicksLoginHintElseFirstAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tests := []struct {
		name string
		hint string
		want string
	}{
		{"no hint", "", "alice@example.com"},
		{"hint", "mallory@example.com", "mallory@example.com"},
		{"unknown hint", "nobody@example.net", "alice@example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var extra []oauth2.AuthCodeOption
			if tc.hint != "" {
				extra = append(extra, oauth2.SetAuthURLParam("login_hint", tc.hint))
			}
			u, verifier, state := h.authURL(extra...)
			code := h.approve(u, "", state)
			tok, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			res, err := h.gmail(tok).Users.Labels.List(tc.want).Do()
			if err != nil {
				t.Fatalf("the token cannot list %s's labels (users/%s is allowed only for the token's own account): %v", tc.want, tc.want, err)
			}
			want, _ := fakegoogle.FindAccount(h.srv.Options().Accounts, tc.want)
			if len(res.Labels) != len(want.Labels) {
				t.Errorf("signed in as someone with %d labels, want %s with %d", len(res.Labels), tc.want, len(want.Labels))
			}
		})
	}
}

func TestOptionsAppliesDefaults(t *testing.T) {
	t.Parallel()
	got := fakegoogle.New(fakegoogle.Options{}).Options()
	if got.ClientID != fakegoogle.DefaultClientID || got.ClientSecret != fakegoogle.DefaultClientSecret ||
		got.AppName != fakegoogle.DefaultAppName || got.CodeLifetime != 5*time.Minute ||
		got.AccessTokenLifetime != time.Hour || got.Now == nil {
		t.Errorf("defaults = %+v", got)
	}
	if !reflect.DeepEqual(got.Accounts, fakegoogle.DemoAccounts()) {
		t.Errorf("default accounts differ from DemoAccounts()")
	}
}

func TestDemoAccountsAreDistinctAndIncludeEscapingTraps(t *testing.T) {
	t.Parallel()
	accounts := fakegoogle.DemoAccounts()
	if len(accounts) != 4 {
		t.Fatalf("got %d demo accounts, want 4", len(accounts))
	}
	system := []string{"INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT", "CHAT",
		"CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES", "CATEGORY_FORUMS"}
	userSets := map[string]bool{}
	for _, a := range accounts {
		if _, domain, _ := strings.Cut(a.Email, "@"); !slices.Contains([]string{"example.com", "example.org"}, domain) &&
			!strings.HasSuffix(domain, ".example.com") && !strings.HasSuffix(domain, ".example.org") {
			t.Errorf("%s is not a reserved example address", a.Email)
		}
		names := map[string]string{}
		var user []string
		for _, l := range a.Labels {
			names[l.Name] = l.Type
			if l.Type == "user" {
				user = append(user, l.Name)
			}
		}
		for _, s := range system {
			if names[s] != "system" {
				t.Errorf("%s lacks system label %s", a.Email, s)
			}
		}
		if len(user) == 0 {
			t.Errorf("%s has no user labels", a.Email)
		}
		userSets[strings.Join(user, "|")] = true
	}
	if len(userSets) != len(accounts) {
		t.Errorf("accounts share user label sets")
	}
	third := map[string]bool{}
	for _, l := range accounts[2].Labels {
		third[l.Name] = true
	}
	if !third[`<img src=x onerror=alert(1)>`] || !third[`Tom & Jerry "quotes"`] {
		t.Errorf("third account lacks the escaping labels: %v", third)
	}
	accounts[0].Labels[0].Name = "changed"
	if fakegoogle.DemoAccounts()[0].Labels[0].Name == "changed" {
		t.Errorf("DemoAccounts shares its slices between calls")
	}
}

// TestDemoAccountsIncludeABusyMailboxWithALongAddress checks the account
// that layouts are tried with: a long address, more than a hundred labels,
// deeply nested names, long names without a space, and names that need
// escaping; every name and id unique, as Gmail has them.
func TestDemoAccountsIncludeABusyMailboxWithALongAddress(t *testing.T) {
	t.Parallel()
	accounts := fakegoogle.DemoAccounts()
	busy, ok := fakegoogle.FindAccount(accounts, fakegoogle.BusyAccountEmail)
	if !ok {
		t.Fatalf("no demo account %s", fakegoogle.BusyAccountEmail)
	}
	if accounts[len(accounts)-1].Email != busy.Email {
		t.Errorf("the busy account is not the last of the account picker")
	}
	if local, _, _ := strings.Cut(busy.Email, "@"); len(busy.Email) < 50 || len(local) < 30 {
		t.Errorf("address %q: want at least 50 characters, 30 before the @", busy.Email)
	}
	if len(busy.Name) < 30 {
		t.Errorf("name %q: want a long name too", busy.Name)
	}
	if len(busy.Labels) < 100 {
		t.Errorf("%d labels; want more than a hundred", len(busy.Labels))
	}
	names, ids := map[string]bool{}, map[string]bool{}
	var deepest, longestWord int
	var escaping []string
	for _, l := range busy.Labels {
		if names[l.Name] || ids[l.ID] {
			t.Errorf("label %q (%s) is not unique", l.Name, l.ID)
		}
		names[l.Name], ids[l.ID] = true, true
		deepest = max(deepest, strings.Count(l.Name, "/")+1)
		for _, word := range strings.Fields(l.Name) {
			longestWord = max(longestWord, len(word))
		}
		if strings.ContainsAny(l.Name, `<>&"'`) {
			escaping = append(escaping, l.Name)
		}
	}
	for _, want := range []string{"Travel/2026", "Projects/Clients/Acme/Invoices"} {
		if !names[want] {
			t.Errorf("no label %q", want)
		}
	}
	for _, l := range busy.Labels {
		// Gmail lists every level of a nested label as a label of its own.
		if parent, _, nested := cutLast(l.Name, "/"); nested && !names[parent] {
			t.Errorf("label %q has no parent label %q", l.Name, parent)
		}
	}
	if deepest < 4 {
		t.Errorf("the deepest label has %d levels; want at least 4", deepest)
	}
	if longestWord < 60 {
		t.Errorf("the longest run of characters without a space in a label name is %d; want at least 60", longestWord)
	}
	if len(escaping) < 3 {
		t.Errorf("labels that need escaping: %q; want at least 3", escaping)
	}
}

// cutLast slices s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
