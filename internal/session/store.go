package session

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Store holds the app's cookies. It holds only keys and settings, so one
// Store serves every request and every user.
type Store struct {
	session Cookie[sessionPayload]
	// Login is the sign-in in progress.
	Login Cookie[Login]
	// NeedsConsent marks that the next sign-in must show Google's consent
	// screen again (true), because Google said the token lacks a scope.
	NeedsConsent Cookie[bool]
	// Notice is a message a change leaves for the next page ("Label
	// created"), shown once.
	Notice Cookie[string]
	// LastSignOut is what this browser's last sign-out did.
	LastSignOut Cookie[SignOut]
	now         func() time.Time
}

// sessionPayload is the sealed form of a Session; short keys keep the
// cookie small and times are Unix seconds.
type sessionPayload struct {
	AccessToken  string `json:"a"`
	TokenType    string `json:"t,omitempty"`
	RefreshToken string `json:"r,omitempty"`
	Expiry       int64  `json:"e,omitempty"`
	Scopes       string `json:"c,omitempty"` // space-separated, as in OAuth
	Email        string `json:"m,omitempty"`
	SignedInAt   int64  `json:"s"`
}

// NewStore returns a Store sealing cookies under key and opening them under
// key or, when it is not nil, previousKey (the key before the last rotation).
// Keys are seal.KeySize bytes. secure marks cookies Secure and gives them the
// __Host- prefix, which is right whenever the app is served over https. now
// is the clock (time.Now when nil).
func NewStore(key, previousKey []byte, secure bool, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now}
	var errs [5]error
	s.session, errs[0] = newCookie[sessionPayload]("oauth_session", SessionCookieLifetime, key, previousKey, secure, now)
	s.Login, errs[1] = newCookie[Login]("oauth_login", LoginLifetime, key, previousKey, secure, now)
	s.NeedsConsent, errs[2] = newCookie[bool]("oauth_consent", ConsentLifetime, key, previousKey, secure, now)
	s.Notice, errs[3] = newCookie[string]("oauth_notice", NoticeLifetime, key, previousKey, secure, now)
	s.LastSignOut, errs[4] = newCookie[SignOut]("oauth_signout", SignOutLifetime, key, previousKey, secure, now)
	if err := cmp.Or(errs[:]...); err != nil { // the first error, if any
		return nil, err
	}
	return s, nil
}

// Now returns the store's current time, the one cookie lifetimes count from.
func (s *Store) Now() time.Time { return s.now() }

// CookieNames returns the names of every cookie the store writes.
func (s *Store) CookieNames() []string {
	return []string{s.session.Name(), s.Login.Name(), s.NeedsConsent.Name(), s.Notice.Name(), s.LastSignOut.Name()}
}

// Session returns the signed-in session carried by r, or ErrMissing,
// ErrInvalid or ErrExpired. With ErrExpired it also returns the expired
// session, so that its refresh token can be revoked.
func (s *Store) Session(r *http.Request) (Session, error) {
	p, previousKey, err := s.session.read(r)
	if err != nil {
		return Session{}, err
	}
	if p.AccessToken == "" {
		return Session{}, ErrInvalid
	}
	sess := Session{
		Token:                 &oauth2.Token{AccessToken: p.AccessToken, TokenType: p.TokenType, RefreshToken: p.RefreshToken},
		Scopes:                strings.Fields(p.Scopes),
		Email:                 p.Email,
		SignedInAt:            time.Unix(p.SignedInAt, 0),
		SealedWithPreviousKey: previousKey,
	}
	if p.Expiry != 0 {
		sess.Token.Expiry = time.Unix(p.Expiry, 0)
	}
	age := s.now().Sub(sess.SignedInAt)
	switch {
	case age < -clockSkew:
		return Session{}, ErrInvalid
	case age > SessionLifetime:
		return sess, ErrExpired
	}
	return sess, nil
}

// SetSession writes sess as the session cookie, sealed with the current
// key. A session past its lifetime is not written (ErrExpired).
func (s *Store) SetSession(w http.ResponseWriter, sess Session) error {
	if s.now().Sub(sess.SignedInAt) > SessionLifetime {
		return ErrExpired
	}
	p := sessionPayload{Scopes: strings.Join(sess.Scopes, " "), Email: sess.Email, SignedInAt: sess.SignedInAt.Unix()}
	if t := sess.Token; t != nil {
		p.AccessToken, p.TokenType, p.RefreshToken = t.AccessToken, t.TokenType, t.RefreshToken
		if !t.Expiry.IsZero() {
			p.Expiry = t.Expiry.Unix()
		}
	}
	return s.session.Write(w, p)
}

// ClearSession deletes the session cookie.
func (s *Store) ClearSession(w http.ResponseWriter) { s.session.Clear(w) }

// ClearAll deletes every cookie of the store that r carries.
func (s *Store) ClearAll(w http.ResponseWriter, r *http.Request) {
	for _, c := range []interface {
		Name() string
		Clear(http.ResponseWriter)
	}{s.session, s.Login, s.NeedsConsent, s.Notice, s.LastSignOut} {
		if _, err := r.Cookie(c.Name()); err == nil {
			c.Clear(w)
		}
	}
}
