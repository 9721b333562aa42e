package session

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"example.com/gcf-oauth-gmail/internal/seal"
)

// maxCookieLen is the largest cookie (name, value and attributes) browsers
// are required to keep.
const maxCookieLen = 4096

// clockSkew is how far in the future a cookie's issue time may lie before it
// is rejected: instances' clocks are close but not identical.
const clockSkew = time.Minute

// Cookie is one kind of sealed cookie: a value of type T that the browser
// keeps for Lifetime and cannot read or change. Every kind of cookie the app
// writes is one of these, under its own name and its own derived key.
type Cookie[T any] struct {
	name     string        // the cookie's name, with the __Host- prefix over https
	lifetime time.Duration // its Max-Age, and the oldest it may be when it comes back
	keys     []*seal.Box   // seal with the first (current) key, open with any
	secure   bool
	now      func() time.Time
}

// envelope is the sealed JSON form of a cookie's value: a format version,
// the time it was written (Unix seconds) and the value.
type envelope[T any] struct {
	Version int   `json:"v"`
	Issued  int64 `json:"i"`
	Value   T     `json:"d"`
}

// formatVersion changes whenever a value's JSON form does, so that a cookie
// of an older form counts as invalid rather than being misread.
const formatVersion = 2

func newCookie[T any](base string, lifetime time.Duration, key, previousKey []byte, secure bool, now func() time.Time) (Cookie[T], error) {
	c := Cookie[T]{name: base, lifetime: lifetime, secure: secure, now: now}
	if secure {
		// Only this host, over https, at Path=/ can set it.
		c.name = "__Host-" + base
	}
	for _, k := range [][]byte{key, previousKey} {
		if k == nil {
			continue
		}
		box, err := seal.New(k, base)
		if err != nil {
			return Cookie[T]{}, err
		}
		c.keys = append(c.keys, box)
	}
	return c, nil
}

// Name returns the cookie's name as the browser sees it.
func (c Cookie[T]) Name() string { return c.name }

// Read returns the value r carries, or ErrMissing, ErrInvalid (not sealed
// by this app, under a current key, for this cookie) or ErrExpired (older
// than the cookie's lifetime).
func (c Cookie[T]) Read(r *http.Request) (T, error) {
	v, _, err := c.read(r)
	return v, err
}

// read is Read that also reports whether the cookie was sealed with the
// previous key.
func (c Cookie[T]) read(r *http.Request) (T, bool, error) {
	var zero T
	raw, err := r.Cookie(c.name)
	if err != nil { // http.ErrNoCookie, its only error
		return zero, false, ErrMissing
	}
	for i, box := range c.keys {
		plaintext, err := box.Open(raw.Value, []byte(c.name))
		if err != nil {
			continue
		}
		var e envelope[T]
		if json.Unmarshal(plaintext, &e) != nil || e.Version != formatVersion {
			return zero, false, ErrInvalid
		}
		age := c.now().Sub(time.Unix(e.Issued, 0))
		switch {
		case age < -clockSkew:
			return zero, false, ErrInvalid
		case age > c.lifetime:
			return zero, false, ErrExpired
		}
		return e.Value, i > 0, nil
	}
	return zero, false, ErrInvalid
}

// Write seals v under the current key and sets it as the cookie, replacing
// any Set-Cookie for it earlier in the response. It returns ErrTooBig when
// the cookie would be larger than browsers keep.
func (c Cookie[T]) Write(w http.ResponseWriter, v T) error {
	// The value may hold tokens by design: it is sealed before it leaves
	// the process.
	plaintext, err := json.Marshal(envelope[T]{Version: formatVersion, Issued: c.now().Unix(), Value: v})
	if err != nil {
		return err
	}
	cookie := c.cookie(c.keys[0].Seal(plaintext, []byte(c.name)), int(c.lifetime/time.Second))
	if len(cookie.String()) > maxCookieLen {
		return ErrTooBig
	}
	set(w, cookie)
	return nil
}

// Clear deletes the cookie.
func (c Cookie[T]) Clear(w http.ResponseWriter) { set(w, c.cookie("", -1)) }

// Take returns the value r carries, if it is usable, and deletes the
// cookie: for values that are good for one use only.
func (c Cookie[T]) Take(w http.ResponseWriter, r *http.Request) (T, error) {
	v, err := c.Read(r)
	if err != ErrMissing {
		c.Clear(w)
	}
	return v, err
}

func (c Cookie[T]) cookie(value string, maxAge int) *http.Cookie {
	// Secure whenever the app is served over https; plain http is for
	// localhost only.
	return &http.Cookie{ // #nosec G124 -- HttpOnly and SameSite always; Secure per scheme
		Name:     c.name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// set adds cookie to the response, dropping any earlier Set-Cookie for the
// same name: a browser applies them in order, so only the last one counts
// anyway, and one per cookie keeps the response unambiguous.
func set(w http.ResponseWriter, cookie *http.Cookie) {
	h := w.Header()
	h["Set-Cookie"] = slices.DeleteFunc(h.Values("Set-Cookie"), func(v string) bool {
		return strings.HasPrefix(v, cookie.Name+"=")
	})
	http.SetCookie(w, cookie)
}
