// Package session keeps what this app remembers about a browser, each in its
// own sealed cookie: the signed-in Session (the user's OAuth token), the
// Login in progress (state, PKCE verifier and where to return, between
// oauth2init and oauth2callback), a marker that the next sign-in must show
// Google's consent screen again, and what the last SignOut did. Handlers only ever see a decoded value
// or an error; they never touch cookie bytes.
package session

import (
	"errors"
	"time"

	"golang.org/x/oauth2"
)

// Lifetimes of the cookies.
const (
	// SessionLifetime bounds how long a sign-in lasts, counted from the
	// moment the user signed in, however often the token is refreshed. A
	// stolen cookie therefore stops working after this long at the latest.
	SessionLifetime = 24 * time.Hour
	// LoginLifetime bounds the time between oauth2init and oauth2callback.
	LoginLifetime = 10 * time.Minute
	// ConsentLifetime bounds how long the app remembers that the next
	// sign-in must ask for consent again.
	ConsentLifetime = time.Hour
	// SignOutLifetime bounds how long the sign-out page remembers what a
	// sign-out did, for reloads of that page.
	SignOutLifetime = 10 * time.Minute
	// clockSkew is how far in the future an issue time may lie before the
	// cookie is rejected (instances' clocks are close but not identical).
	clockSkew = time.Minute
)

// Errors returned when a cookie cannot be used. Callers treat all of them as
// "no session"; they are distinct only for logs and tests.
var (
	ErrMissing = errors.New("session: no cookie")
	ErrInvalid = errors.New("session: cookie is not authentic")
	ErrExpired = errors.New("session: cookie has expired")
	ErrTooBig  = errors.New("session: value too large for a cookie")
)

// Session is a signed-in user.
type Session struct {
	Token      *oauth2.Token
	SignedInAt time.Time // when the user completed consent
	// SealedWithPreviousKey reports that the cookie was sealed with the key
	// before the last rotation: writing it again seals it with the current
	// key, so that the next rotation does not sign the user out.
	SealedWithPreviousKey bool
}

// SignOut is what a sign-out did, for the page that follows it.
type SignOut struct {
	Revoked bool // Google confirmed the revocation of the token
	At      time.Time
}

// Login is a sign-in in progress: what oauth2callback must check, and where
// it sends the browser afterwards.
type Login struct {
	State    string // the OAuth state sent to Google
	Verifier string // the PKCE code verifier
	Next     string // the function to return to; empty for the default
	IssuedAt time.Time
}
