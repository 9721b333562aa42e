package session

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"example.com/gcf-oauth-gmail/internal/seal"
)

// maxCookieLen is the largest cookie (name, value and attributes) browsers
// are required to keep.
const maxCookieLen = 4096

// Base names of the cookies; over https they get the __Host- prefix.
const (
	sessionName = "oauth_session"
	loginName   = "oauth_login"
	consentName = "oauth_consent"
	signOutName = "oauth_signout"
)

// cookieBases are the base names of every cookie the store writes.
var cookieBases = []string{sessionName, loginName, consentName, signOutName}

// Store reads and writes the app's cookies. It holds only keys and settings,
// so one Store serves every request and every user.
type Store struct {
	sessions, logins, consents, signOuts keyring
	secure                               bool
	now                                  func() time.Time
}

// keyring seals with the current key and opens with the current key, then
// the previous one.
type keyring []*seal.Box

// NewStore returns a Store sealing cookies under key and opening them under
// key or, when it is not nil, previousKey (the key before the last rotation).
// Keys are seal.KeySize bytes. secure marks cookies Secure and gives them the
// __Host- prefix, which is right whenever the app is served over https. now
// is the clock (time.Now when nil).
func NewStore(key, previousKey []byte, secure bool, now func() time.Time) (*Store, error) {
	s := &Store{secure: secure, now: now}
	if s.now == nil {
		s.now = time.Now
	}
	for _, ring := range []struct {
		purpose string
		into    *keyring
	}{{"session", &s.sessions}, {"login", &s.logins}, {"consent", &s.consents}, {"signout", &s.signOuts}} {
		for _, k := range [][]byte{key, previousKey} {
			if k == nil && len(*ring.into) > 0 {
				continue
			}
			box, err := seal.New(k, ring.purpose)
			if err != nil {
				return nil, err
			}
			*ring.into = append(*ring.into, box)
		}
	}
	return s, nil
}

// Now returns the store's current time, the one cookie lifetimes count from.
func (s *Store) Now() time.Time { return s.now() }

// CookieNames returns the names of every cookie the store writes.
func (s *Store) CookieNames() []string {
	names := make([]string, len(cookieBases))
	for i, base := range cookieBases {
		names[i] = s.name(base)
	}
	return names
}

func (s *Store) name(base string) string {
	if s.secure {
		return "__Host-" + base
	}
	return base
}

// Session returns the signed-in session carried by r, or ErrMissing,
// ErrInvalid or ErrExpired. With ErrExpired it also returns the expired
// session, so that its refresh token can be revoked.
func (s *Store) Session(r *http.Request) (Session, error) {
	plaintext, previous, err := s.open(r, sessionName, s.sessions)
	if err != nil {
		return Session{}, err
	}
	sess, issuedAt, err := decodeSession(plaintext)
	if err != nil {
		return Session{}, err
	}
	sess.SealedWithPreviousKey = previous
	now := s.now()
	if issuedAt.After(now.Add(clockSkew)) || sess.SignedInAt.After(now.Add(clockSkew)) {
		return Session{}, ErrInvalid
	}
	if now.Sub(sess.SignedInAt) > SessionLifetime {
		return sess, ErrExpired
	}
	return sess, nil
}

// SetSession writes sess as the session cookie, sealed with the current
// key, replacing any session cookie already set on this response. Its
// lifetime runs until SessionLifetime after sess.SignedInAt.
func (s *Store) SetSession(w http.ResponseWriter, sess Session) error {
	now := s.now()
	plaintext, err := encodeSession(sess, now)
	if err != nil {
		return err
	}
	remaining := SessionLifetime - now.Sub(sess.SignedInAt)
	if remaining <= 0 {
		return ErrExpired
	}
	return s.write(w, sessionName, s.sessions, plaintext, remaining)
}

// ClearSession deletes the session cookie.
func (s *Store) ClearSession(w http.ResponseWriter) { s.clear(w, sessionName) }

// Login returns the login in progress carried by r, or ErrMissing,
// ErrInvalid or ErrExpired.
func (s *Store) Login(r *http.Request) (Login, error) {
	plaintext, _, err := s.open(r, loginName, s.logins)
	if err != nil {
		return Login{}, err
	}
	login, err := decodeLogin(plaintext)
	if err != nil {
		return Login{}, err
	}
	if err := s.checkAge(login.IssuedAt, LoginLifetime); err != nil {
		return Login{}, err
	}
	return login, nil
}

// SetLogin writes login as the short-lived login cookie, stamped with the
// current time.
func (s *Store) SetLogin(w http.ResponseWriter, login Login) error {
	login.IssuedAt = s.now()
	plaintext, err := encodeLogin(login)
	if err != nil {
		return err
	}
	return s.write(w, loginName, s.logins, plaintext, LoginLifetime)
}

// ClearLogin deletes the login cookie.
func (s *Store) ClearLogin(w http.ResponseWriter) { s.clear(w, loginName) }

// NeedsConsent reports whether r carries a valid marker that the next
// sign-in must ask for consent again.
func (s *Store) NeedsConsent(r *http.Request) bool {
	plaintext, _, err := s.open(r, consentName, s.consents)
	if err != nil {
		return false
	}
	issuedAt, err := decodeConsent(plaintext)
	return err == nil && s.checkAge(issuedAt, ConsentLifetime) == nil
}

// SetNeedsConsent writes the marker that the next sign-in must ask for
// consent again.
func (s *Store) SetNeedsConsent(w http.ResponseWriter) error {
	plaintext, err := encodeConsent(s.now())
	if err != nil {
		return err
	}
	return s.write(w, consentName, s.consents, plaintext, ConsentLifetime)
}

// ClearNeedsConsent deletes the consent marker.
func (s *Store) ClearNeedsConsent(w http.ResponseWriter) { s.clear(w, consentName) }

// SignOut returns the outcome of the sign-out this browser made in the last
// SignOutLifetime, and whether there was one.
func (s *Store) SignOut(r *http.Request) (SignOut, bool) {
	plaintext, _, err := s.open(r, signOutName, s.signOuts)
	if err != nil {
		return SignOut{}, false
	}
	out, err := decodeSignOut(plaintext)
	if err != nil || s.checkAge(out.At, SignOutLifetime) != nil {
		return SignOut{}, false
	}
	return out, true
}

// SetSignOut writes the outcome of a sign-out, for the page that follows it.
func (s *Store) SetSignOut(w http.ResponseWriter, out SignOut) error {
	out.At = s.now()
	plaintext, err := encodeSignOut(out)
	if err != nil {
		return err
	}
	return s.write(w, signOutName, s.signOuts, plaintext, SignOutLifetime)
}

// ClearAll deletes every cookie of the store that r carries.
func (s *Store) ClearAll(w http.ResponseWriter, r *http.Request) {
	for _, base := range cookieBases {
		if _, err := r.Cookie(s.name(base)); err == nil {
			s.clear(w, base)
		}
	}
}

func (s *Store) checkAge(issuedAt time.Time, lifetime time.Duration) error {
	age := s.now().Sub(issuedAt)
	if age < -clockSkew {
		return ErrInvalid
	}
	if age > lifetime {
		return ErrExpired
	}
	return nil
}

// open returns the plaintext of the cookie base, and whether it was sealed
// with the previous key.
func (s *Store) open(r *http.Request, base string, keys keyring) ([]byte, bool, error) {
	name := s.name(base)
	c, err := r.Cookie(name)
	if errors.Is(err, http.ErrNoCookie) {
		return nil, false, ErrMissing
	}
	if err != nil {
		return nil, false, ErrInvalid
	}
	for i, box := range keys {
		if plaintext, err := box.Open(c.Value, []byte(name)); err == nil {
			return plaintext, i > 0, nil
		}
	}
	return nil, false, ErrInvalid
}

// write seals plaintext with the current key and sets it as the cookie
// base, replacing a Set-Cookie for the same cookie earlier in the response.
func (s *Store) write(w http.ResponseWriter, base string, keys keyring, plaintext []byte, maxAge time.Duration) error {
	name := s.name(base)
	c := s.cookie(name, keys[0].Seal(plaintext, []byte(name)), int(maxAge/time.Second))
	if len(c.String()) > maxCookieLen {
		return ErrTooBig
	}
	s.set(w, c)
	return nil
}

func (s *Store) clear(w http.ResponseWriter, base string) {
	s.set(w, s.cookie(s.name(base), "", -1))
}

// set adds c to the response, dropping any earlier Set-Cookie for the same
// name: a browser applies them in order, so only the last one counts anyway,
// and one per cookie keeps the response unambiguous.
func (s *Store) set(w http.ResponseWriter, c *http.Cookie) {
	h := w.Header()
	kept := h.Values("Set-Cookie")[:0:0]
	for _, v := range h.Values("Set-Cookie") {
		if !strings.HasPrefix(v, c.Name+"=") {
			kept = append(kept, v)
		}
	}
	h.Del("Set-Cookie")
	for _, v := range kept {
		h.Add("Set-Cookie", v)
	}
	http.SetCookie(w, c)
}

func (s *Store) cookie(name, value string, maxAge int) *http.Cookie {
	// Secure is set whenever the app is served over https; plain http is
	// for localhost only.
	return &http.Cookie{ // #nosec G124 -- HttpOnly and SameSite always; Secure per scheme
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	}
}
