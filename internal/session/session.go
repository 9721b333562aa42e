// Package session keeps what the app remembers about a browser, each in a
// sealed cookie of its own (see Cookie): the signed-in Session (the user's
// OAuth token, the scopes granted and the account), the Login in progress
// (state, PKCE verifier and where to return), a marker that the next
// sign-in must show Google's consent screen again, a one-time Notice for the
// page after a change, and what the LastSignOut did. Handlers only ever see
// a decoded value or an error; they never touch cookie bytes.
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
	// SessionCookieLifetime is how long a browser keeps the session cookie
	// after each write: a day longer than the session, so that an expired
	// session comes back and its refresh token can be revoked. A key given
	// as the previous cookie key must stay that long after a rotation.
	SessionCookieLifetime = SessionLifetime + 24*time.Hour
	// LoginLifetime bounds the time between oauth2init and oauth2callback.
	LoginLifetime = 10 * time.Minute
	// ConsentLifetime bounds how long the app remembers that the next
	// sign-in must ask for consent again.
	ConsentLifetime = time.Hour
	// NoticeLifetime bounds how long a notice waits for the page after a
	// change (post/redirect/get takes a moment, not minutes).
	NoticeLifetime = time.Minute
	// SignOutLifetime bounds how long the sign-out page remembers what a
	// sign-out did, for reloads of that page.
	SignOutLifetime = 10 * time.Minute
)

// Errors returned when a cookie cannot be used. Callers treat all of them as
// "no value"; they are distinct only for logs and tests.
var (
	ErrMissing = errors.New("session: no cookie")
	ErrInvalid = errors.New("session: cookie is not authentic")
	ErrExpired = errors.New("session: cookie has expired")
	ErrTooBig  = errors.New("session: value too large for a cookie")
)

// Session is a signed-in user.
type Session struct {
	Token      *oauth2.Token
	Scopes     []string  // the scopes Google granted, all sign-ins of this session together
	Email      string    // the Google account, from the sign-in's ID token; empty if unknown
	SignedInAt time.Time // when the user last completed Google's sign-in
	// SealedWithPreviousKey reports that the cookie was sealed with the key
	// before the last rotation: writing it again seals it with the current
	// key, so that the next rotation does not sign the user out.
	SealedWithPreviousKey bool
}

// Login is a sign-in in progress: what oauth2callback must check, and where
// it sends the browser afterwards.
type Login struct {
	State    string `json:"s"`           // the OAuth state sent to Google
	Verifier string `json:"p"`           // the PKCE code verifier
	Next     string `json:"n,omitempty"` // the function to return to; empty for the default
}

// SignOut is what a sign-out did, for the page that follows it.
type SignOut struct {
	Revoked bool `json:"r"` // Google confirmed the revocation of the token
}
