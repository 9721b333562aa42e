package session_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/session"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(t testing.TB, key []byte, secure bool, c *clock) *session.Store {
	t.Helper()
	s, err := session.NewStore(key, secure, c.now)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// carry returns a request that sends back the cookies set on rec.
func carry(rec *httptest.ResponseRecorder) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return req
}

func sampleSession(at time.Time) session.Session {
	return session.Session{
		Token: &oauth2.Token{
			AccessToken:  "ya29.secret-access",
			TokenType:    "Bearer",
			RefreshToken: "1//secret-refresh",
			Expiry:       at.Add(time.Hour),
		},
		Email:      "ada@example.com",
		SignedInAt: at,
	}
}

func TestSessionRoundTripKeepsTokenAndAccount(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), false, c)
	rec := httptest.NewRecorder()
	want := sampleSession(c.t)
	if err := store.SetSession(rec, want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Session(carry(rec))
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if got.Token.AccessToken != want.Token.AccessToken || got.Token.RefreshToken != want.Token.RefreshToken ||
		!got.Token.Expiry.Equal(want.Token.Expiry) || got.Email != want.Email || !got.SignedInAt.Equal(want.SignedInAt) {
		t.Fatalf("round trip changed the session: got %+v %+v, want %+v %+v", got, got.Token, want, want.Token)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		secure   bool
		wantName string
	}{
		{false, "gmail_session"},
		{true, "__Host-gmail_session"},
	}
	for _, tt := range tests {
		c := &clock{time.Now()}
		store := newStore(t, key(1), tt.secure, c)
		rec := httptest.NewRecorder()
		if err := store.SetSession(rec, sampleSession(c.t)); err != nil {
			t.Fatal(err)
		}
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("got %d cookies, want 1", len(cookies))
		}
		got := cookies[0]
		if got.Name != tt.wantName || !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Path != "/" || got.Secure != tt.secure {
			t.Errorf("secure=%v: cookie %q has wrong attributes: %s", tt.secure, got.Name, rec.Header().Get("Set-Cookie"))
		}
		if got.MaxAge <= 0 || got.MaxAge > int(session.SessionLifetime/time.Second) {
			t.Errorf("Max-Age = %d, want within (0, %v]", got.MaxAge, session.SessionLifetime)
		}
	}
}

func TestSessionCookieRevealsNoTokenUnderAnyDecoding(t *testing.T) {
	c := &clock{time.Now()}
	store := newStore(t, key(1), false, c)
	rec := httptest.NewRecorder()
	s := sampleSession(c.t)
	if err := store.SetSession(rec, s); err != nil {
		t.Fatal(err)
	}
	value := rec.Result().Cookies()[0].Value
	decodings := []string{value}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(value); err == nil {
			decodings = append(decodings, string(b))
		}
	}
	for _, d := range decodings {
		for _, secret := range []string{s.Token.AccessToken, s.Token.RefreshToken, s.Email, "secret"} {
			if strings.Contains(d, secret) {
				t.Fatalf("cookie value reveals %q", secret)
			}
		}
	}
}

func TestSessionRejectsUnusableCookies(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), false, c)
	rec := httptest.NewRecorder()
	if err := store.SetSession(rec, sampleSession(c.t)); err != nil {
		t.Fatal(err)
	}
	good := rec.Result().Cookies()[0].Value

	loginRec := httptest.NewRecorder()
	if err := store.SetLogin(loginRec, session.Login{State: "s", Verifier: "v"}); err != nil {
		t.Fatal(err)
	}
	loginValue := loginRec.Result().Cookies()[0].Value

	tests := []struct {
		name    string
		value   string
		store   *session.Store
		advance time.Duration
		want    error
	}{
		{"no cookie", "", store, 0, session.ErrMissing},
		{"tampered", good[:10] + flip(good[10]) + good[11:], store, 0, session.ErrInvalid},
		{"truncated", good[:len(good)/2], store, 0, session.ErrInvalid},
		{"garbage", "not-a-sealed-value", store, 0, session.ErrInvalid},
		{"raw json", `{"a":"ya29.x"}`, store, 0, session.ErrInvalid},
		{"other key", good, newStore(t, key(2), false, c), 0, session.ErrInvalid},
		{"login cookie value swapped in", loginValue, store, 0, session.ErrInvalid},
		{"older than the session lifetime", good, store, session.SessionLifetime + time.Second, session.ErrExpired},
		{"issued in the future", good, store, -time.Hour, session.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := c.t
			c.t = c.t.Add(tt.advance)
			defer func() { c.t = saved }()
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.value != "" {
				req.AddCookie(&http.Cookie{Name: store.SessionCookieName(), Value: tt.value})
			}
			if _, err := tt.store.Session(req); !errors.Is(err, tt.want) {
				t.Fatalf("Session error = %v, want %v", err, tt.want)
			}
		})
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

func TestLoginRoundTripAndExpiry(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), true, c)
	rec := httptest.NewRecorder()
	if err := store.SetLogin(rec, session.Login{State: "state-1", Verifier: "verifier-1"}); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	if cookie.Name != "__Host-gmail_login" || !cookie.HttpOnly || !cookie.Secure || cookie.MaxAge != 600 {
		t.Fatalf("login cookie attributes wrong: %s", rec.Header().Get("Set-Cookie"))
	}
	req := carry(rec)
	got, err := store.Login(req)
	if err != nil || got.State != "state-1" || got.Verifier != "verifier-1" {
		t.Fatalf("Login = %+v, %v", got, err)
	}
	c.t = c.t.Add(session.LoginLifetime + time.Second)
	if _, err := store.Login(req); !errors.Is(err, session.ErrExpired) {
		t.Fatalf("Login after its lifetime: err = %v, want ErrExpired", err)
	}
}

func TestClearWritesExpiredCookies(t *testing.T) {
	store := newStore(t, key(1), false, nil)
	rec := httptest.NewRecorder()
	store.ClearSession(rec)
	store.ClearLogin(rec)
	cookies := rec.Result().Cookies()
	if len(cookies) != 2 {
		t.Fatalf("got %d cookies, want 2", len(cookies))
	}
	for _, c := range cookies {
		if c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("cookie %s not cleared: %s", c.Name, c.String())
		}
	}
}

func TestSetSessionRefusesOversizedTokens(t *testing.T) {
	c := &clock{time.Now()}
	store := newStore(t, key(1), false, c)
	s := sampleSession(c.t)
	s.Token.AccessToken = strings.Repeat("x", 5000)
	if err := store.SetSession(httptest.NewRecorder(), s); !errors.Is(err, session.ErrTooBig) {
		t.Fatalf("SetSession with a 5000-byte token: err = %v, want ErrTooBig", err)
	}
}

func FuzzOpenCookies(f *testing.F) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(f, key(3), false, c)
	rec := httptest.NewRecorder()
	if err := store.SetSession(rec, sampleSession(c.t)); err != nil {
		f.Fatal(err)
	}
	if err := store.SetLogin(rec, session.Login{State: "s", Verifier: "v"}); err != nil {
		f.Fatal(err)
	}
	for _, ck := range rec.Result().Cookies() {
		f.Add(ck.Value)
	}
	f.Add("")
	f.Add("%%%")
	f.Add(strings.Repeat("A", 5000))
	f.Fuzz(func(t *testing.T, value string) {
		for _, name := range []string{store.SessionCookieName(), store.LoginCookieName()} {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", name+"="+value)
			if s, err := store.Session(req); err == nil && (s.Token == nil || s.Token.AccessToken == "") {
				t.Fatalf("Session accepted %q without a token", value)
			}
			if l, err := store.Login(req); err == nil && (l.State == "" || l.Verifier == "") {
				t.Fatalf("Login accepted %q without state or verifier", value)
			}
		}
	})
}
