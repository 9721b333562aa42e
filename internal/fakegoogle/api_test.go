package fakegoogle_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

const driveScope = "https://www.googleapis.com/auth/drive.metadata.readonly"

// filesHandler answers a Drive-like files.list with the account's address.
func filesHandler(w http.ResponseWriter, r *http.Request, account fakegoogle.Account) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"files": []map[string]string{{"name": "Notes of " + account.Email}}})
}

func TestHandleAPIAuthorizesLikeGoogle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, driveScope, "https://www.googleapis.com/auth/gmail.readonly")
	h.srv.HandleAPI("GET /example/v1/files", []string{driveScope}, filesHandler)
	withDrive := h.login("bob@example.org")

	gmailOnly := newHarness(t, fakegoogle.Options{})
	gmailOnly.srv.HandleAPI("GET /example/v1/files", []string{driveScope}, filesHandler)
	withoutDrive := gmailOnly.login("")

	tests := []struct {
		name       string
		h          *harness
		client     *http.Client
		wantStatus int
		wantBody   string
	}{
		{"granted", h, h.cfg.Client(h.ctx(), withDrive), http.StatusOK, "Notes of bob@example.org"},
		{"no token", h, h.ts.Client(), http.StatusUnauthorized, `"reason":"authError"`},
		{"unknown token", h, h.staticClient("ya29.demo-unknown"), http.StatusUnauthorized, `"reason":"authError"`},
		{"token without the scope", gmailOnly, gmailOnly.cfg.Client(gmailOnly.ctx(), withoutDrive), http.StatusForbidden, `"reason":"insufficientPermissions"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(tt.h.ts.URL + "/example/v1/files")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("status %d body %s, want %d with %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestApproveScopesGrantsOnlyTheTickedScopes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, driveScope, "https://www.googleapis.com/auth/gmail.readonly")
	h.srv.HandleAPI("GET /example/v1/files", []string{driveScope}, filesHandler)
	u, verifier, state := h.authURL()
	cb, err := h.srv.ApproveScopes(u, "", []string{driveScope, "https://example.com/not-asked-for"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cb.Query().Get("scope"); got != driveScope || cb.Query().Get("state") != state {
		t.Fatalf("callback scope %q state %q, want only %s", got, cb.Query().Get("state"), driveScope)
	}
	tok, err := h.cfg.Exchange(h.ctx(), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := tok.Extra("scope").(string); got != driveScope {
		t.Fatalf("token response scope %q, want %q", got, driveScope)
	}
	client := h.cfg.Client(h.ctx(), tok)
	if resp, err := client.Get(h.ts.URL + "/example/v1/files"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the granted scope does not work: %v %v", resp, err)
	}
	_, err = h.gmail(tok).Users.Labels.List("me").Do()
	if err == nil || !strings.Contains(err.Error(), "insufficientPermissions") {
		t.Fatalf("Gmail with the scope left unticked: err %v, want 403 insufficientPermissions", err)
	}
	if granted := strings.Fields(cb.Query().Get("scope")); slices.Contains(granted, "https://example.com/not-asked-for") {
		t.Fatal("a scope that was not asked for was granted")
	}
}

func TestHandleAPIAgainReplacesTheHandler(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{}, driveScope)
	h.srv.HandleAPI("GET /example/v1/files", []string{"https://www.googleapis.com/auth/gmail.readonly"}, filesHandler)
	h.srv.HandleAPI("GET /example/v1/files", []string{driveScope}, func(w http.ResponseWriter, r *http.Request, account fakegoogle.Account) {
		_, _ = io.WriteString(w, `{"files":[]}`)
	})
	resp, err := h.cfg.Client(h.ctx(), h.login("")).Get(h.ts.URL + "/example/v1/files")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != `{"files":[]}` {
		t.Fatalf("status %d body %s, want the second handler, with its own scopes", resp.StatusCode, body)
	}
}
