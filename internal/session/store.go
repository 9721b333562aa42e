package session

import (
	"errors"
	"net/http"
	"time"

	"example.com/gcf-oauth-gmail/internal/seal"
)

// maxCookieLen is the largest cookie (name, value and attributes) browsers
// are required to keep.
const maxCookieLen = 4096

// Store reads and writes the session and login cookies. It holds only keys
// and settings, so one Store serves every request and every user.
type Store struct {
	sessions *seal.Box
	logins   *seal.Box
	secure   bool
	now      func() time.Time
}

// NewStore returns a Store sealing cookies under key (seal.KeySize bytes).
// secure marks cookies Secure and gives them the __Host- prefix, which is
// right whenever the app is served over https. now is the clock (time.Now
// when nil).
func NewStore(key []byte, secure bool, now func() time.Time) (*Store, error) {
	sessions, err := seal.New(key, "session")
	if err != nil {
		return nil, err
	}
	logins, err := seal.New(key, "login")
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Store{sessions: sessions, logins: logins, secure: secure, now: now}, nil
}

// Now returns the store's current time, the one cookie lifetimes count from.
func (s *Store) Now() time.Time { return s.now() }

// SessionCookieName is the name of the session cookie.
func (s *Store) SessionCookieName() string { return s.name("gmail_session") }

// LoginCookieName is the name of the login-in-progress cookie.
func (s *Store) LoginCookieName() string { return s.name("gmail_login") }

func (s *Store) name(base string) string {
	if s.secure {
		return "__Host-" + base
	}
	return base
}

// Session returns the signed-in session carried by r, or ErrMissing,
// ErrInvalid or ErrExpired.
func (s *Store) Session(r *http.Request) (Session, error) {
	plaintext, err := s.open(r, s.SessionCookieName(), s.sessions)
	if err != nil {
		return Session{}, err
	}
	sess, issuedAt, err := decodeSession(plaintext)
	if err != nil {
		return Session{}, err
	}
	now := s.now()
	if issuedAt.After(now.Add(clockSkew)) || sess.SignedInAt.After(now.Add(clockSkew)) {
		return Session{}, ErrInvalid
	}
	if now.Sub(sess.SignedInAt) > SessionLifetime {
		return Session{}, ErrExpired
	}
	return sess, nil
}

// SetSession writes sess as the session cookie. Its lifetime runs until
// SessionLifetime after sess.SignedInAt.
func (s *Store) SetSession(w http.ResponseWriter, sess Session) error {
	plaintext, err := encodeSession(sess, s.now())
	if err != nil {
		return err
	}
	remaining := SessionLifetime - s.now().Sub(sess.SignedInAt)
	if remaining <= 0 {
		return ErrExpired
	}
	return s.write(w, s.SessionCookieName(), s.sessions.Seal(plaintext, []byte(s.SessionCookieName())), remaining)
}

// ClearSession deletes the session cookie.
func (s *Store) ClearSession(w http.ResponseWriter) { s.clear(w, s.SessionCookieName()) }

// Login returns the login in progress carried by r, or ErrMissing,
// ErrInvalid or ErrExpired.
func (s *Store) Login(r *http.Request) (Login, error) {
	plaintext, err := s.open(r, s.LoginCookieName(), s.logins)
	if err != nil {
		return Login{}, err
	}
	login, err := decodeLogin(plaintext)
	if err != nil {
		return Login{}, err
	}
	age := s.now().Sub(login.IssuedAt)
	if age < -clockSkew {
		return Login{}, ErrInvalid
	}
	if age > LoginLifetime {
		return Login{}, ErrExpired
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
	return s.write(w, s.LoginCookieName(), s.logins.Seal(plaintext, []byte(s.LoginCookieName())), LoginLifetime)
}

// ClearLogin deletes the login cookie.
func (s *Store) ClearLogin(w http.ResponseWriter) { s.clear(w, s.LoginCookieName()) }

// HasCookie reports whether r carries a cookie called name, usable or not.
func HasCookie(r *http.Request, name string) bool {
	_, err := r.Cookie(name)
	return err == nil
}

func (s *Store) open(r *http.Request, name string, box *seal.Box) ([]byte, error) {
	c, err := r.Cookie(name)
	if errors.Is(err, http.ErrNoCookie) {
		return nil, ErrMissing
	}
	if err != nil {
		return nil, ErrInvalid
	}
	plaintext, err := box.Open(c.Value, []byte(name))
	if err != nil {
		return nil, ErrInvalid
	}
	return plaintext, nil
}

func (s *Store) write(w http.ResponseWriter, name, value string, maxAge time.Duration) error {
	c := s.cookie(name, value, int(maxAge/time.Second))
	if len(c.String()) > maxCookieLen {
		return ErrTooBig
	}
	http.SetCookie(w, c)
	return nil
}

func (s *Store) clear(w http.ResponseWriter, name string) {
	http.SetCookie(w, s.cookie(name, "", -1))
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
