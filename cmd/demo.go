package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"time"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/pages"
)

// demoEmulator is the running emulator of Google.
type demoEmulator struct {
	URL      string
	Accounts []fakegoogle.Account // the accounts to sign in as
	server   *http.Server
}

// Close stops the emulator.
func (d *demoEmulator) Close() { _ = d.server.Close() }

// startDemo starts the Google emulator on a free loopback port and points
// the app at it through setenv. The function package reads its settings
// from the process environment, exactly as when deployed, so the demo sets
// the same variables an operator would, in memory, with nothing on disk.
func startDemo(ctx context.Context, port string, getenv func(string) string, setenv func(string, string) error) (*demoEmulator, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + listener.Addr().String()
	redirect := "http://localhost:" + port + "/oauth2callback"
	accounts := fakegoogle.DemoAccounts()
	opts := fakegoogle.Options{RedirectURIs: []string{redirect}, Accounts: accounts, AppName: pages.AppName}
	emulator := fakegoogle.New(opts)
	server := &http.Server{Handler: emulator, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }() // returns when Close is called

	key := make([]byte, 32)
	rand.Read(key)
	settings := map[string]string{
		"CLIENT_SECRET_JSON": string(fakegoogle.ClientSecretJSON(base, opts)),
		"REDIRECT_URL":       redirect,
		"COOKIE_SECRET":      base64.StdEncoding.EncodeToString(key),
		// Every call to Google (Gmail, token, revocation) goes to the emulator.
		"GOOGLE_API_ENDPOINT": base,
	}
	for k, v := range settings {
		if err := setenv(k, v); err != nil {
			_ = server.Close()
			return nil, err
		}
	}
	return &demoEmulator{URL: base, Accounts: accounts, server: server}, nil
}
