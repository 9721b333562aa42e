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
	s, err := session.NewStore(key, nil, secure, c.now)
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
		!got.Token.Expiry.Equal(want.Token.Expiry) || !got.SignedInAt.Equal(want.SignedInAt) || got.SealedWithPreviousKey {
		t.Fatalf("round trip changed the session: got %+v %+v, want %+v %+v", got, got.Token, want, want.Token)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		secure   bool
		wantName string
	}{
		{false, "oauth_session"},
		{true, "__Host-oauth_session"},
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
		if got.MaxAge != int(session.SessionCookieLifetime/time.Second) {
			t.Errorf("Max-Age = %d, want %v", got.MaxAge, session.SessionCookieLifetime)
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
		for _, secret := range []string{s.Token.AccessToken, s.Token.RefreshToken, "secret"} {
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
	if err := store.Login.Write(loginRec, session.Login{State: "s", Verifier: "v"}); err != nil {
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
				req.AddCookie(&http.Cookie{Name: "oauth_session", Value: tt.value})
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
	if err := store.Login.Write(rec, session.Login{State: "state-1", Verifier: "verifier-1", Next: "listfiles"}); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	if cookie.Name != "__Host-oauth_login" || !cookie.HttpOnly || !cookie.Secure || cookie.MaxAge != 600 {
		t.Fatalf("login cookie attributes wrong: %s", rec.Header().Get("Set-Cookie"))
	}
	req := carry(rec)
	got, err := store.Login.Read(req)
	if err != nil || got.State != "state-1" || got.Verifier != "verifier-1" || got.Next != "listfiles" {
		t.Fatalf("Login = %+v, %v", got, err)
	}
	c.t = c.t.Add(session.LoginLifetime + time.Second)
	if _, err := store.Login.Read(req); !errors.Is(err, session.ErrExpired) {
		t.Fatalf("Login after its lifetime: err = %v, want ErrExpired", err)
	}
}

func TestClearWritesExpiredCookies(t *testing.T) {
	store := newStore(t, key(1), false, &clock{time.Now()})
	rec := httptest.NewRecorder()
	store.ClearSession(rec)
	store.Login.Clear(rec)
	store.NeedsConsent.Clear(rec)
	cookies := rec.Result().Cookies()
	if len(cookies) != 3 {
		t.Fatalf("got %d cookies, want 3", len(cookies))
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
	if err := store.Login.Write(rec, session.Login{State: "s", Verifier: "v"}); err != nil {
		f.Fatal(err)
	}
	for _, ck := range rec.Result().Cookies() {
		f.Add(ck.Value)
	}
	f.Add("")
	f.Add("%%%")
	f.Add(strings.Repeat("A", 5000))
	f.Fuzz(func(t *testing.T, value string) {
		for _, name := range store.CookieNames() {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", name+"="+value)
			if s, err := store.Session(req); err == nil && (s.Token == nil || s.Token.AccessToken == "") {
				t.Fatalf("Session accepted %q without a token", value)
			}
			if l, err := store.Login.Read(req); err == nil && (l.State == "" || l.Verifier == "") {
				t.Fatalf("Login accepted %q without state or verifier", value)
			}
			if needsConsent(store, req) {
				t.Fatalf("NeedsConsent accepted %q", value)
			}
			if _, err := store.LastSignOut.Read(req); err == nil {
				t.Fatalf("SignOut accepted %q", value)
			}
		}
	})
}

func TestCookiesSealedWithThePreviousKeyStillOpen(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	before := newStore(t, key(1), false, c)
	rec := httptest.NewRecorder()
	if err := before.SetSession(rec, sampleSession(c.t)); err != nil {
		t.Fatal(err)
	}
	if err := before.Login.Write(rec, session.Login{State: "s", Verifier: "v"}); err != nil {
		t.Fatal(err)
	}
	if err := before.NeedsConsent.Write(rec, true); err != nil {
		t.Fatal(err)
	}
	req := carry(rec)

	rotated, err := session.NewStore(key(2), key(1), false, c.now)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := rotated.Session(req)
	if err != nil || !sess.SealedWithPreviousKey || sess.Token.AccessToken != "ya29.secret-access" {
		t.Fatalf("session under the previous key: %+v, %v; want it opened and marked as sealed with the previous key", sess, err)
	}
	if _, err := rotated.Login.Read(req); err != nil {
		t.Errorf("login under the previous key: %v", err)
	}
	if !needsConsent(rotated, req) {
		t.Error("consent marker under the previous key was not read")
	}

	// Written again, it is sealed with the current key only.
	rewritten := httptest.NewRecorder()
	if err := rotated.SetSession(rewritten, sess); err != nil {
		t.Fatal(err)
	}
	again, err := rotated.Session(carry(rewritten))
	if err != nil || again.SealedWithPreviousKey {
		t.Fatalf("rewritten session: %+v, %v; want it sealed with the current key", again, err)
	}
	if _, err := before.Session(carry(rewritten)); !errors.Is(err, session.ErrInvalid) {
		t.Fatalf("the old key still opens the rewritten session (err %v)", err)
	}

	// Two rotations later, the first key opens nothing.
	twice, err := session.NewStore(key(3), key(2), false, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := twice.Session(req); !errors.Is(err, session.ErrInvalid) {
		t.Fatalf("a cookie two keys old: err %v, want ErrInvalid", err)
	}
}

func TestExpiredSessionIsReturnedForRevocation(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), false, c)
	rec := httptest.NewRecorder()
	if err := store.SetSession(rec, sampleSession(c.t)); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(session.SessionLifetime + time.Minute)
	sess, err := store.Session(carry(rec))
	if !errors.Is(err, session.ErrExpired) || sess.Token == nil || sess.Token.RefreshToken != "1//secret-refresh" {
		t.Fatalf("Session = %+v, %v; want ErrExpired with the expired session's token", sess, err)
	}
}

func TestSettingACookieTwiceKeepsOnlyTheLast(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), false, c)
	rec := httptest.NewRecorder()
	http.SetCookie(rec, &http.Cookie{Name: "other", Value: "kept"})
	first, second := sampleSession(c.t), sampleSession(c.t)
	second.Token = &oauth2.Token{AccessToken: "ya29.second", Expiry: c.t.Add(time.Hour)}
	for _, s := range []session.Session{first, second} {
		if err := store.SetSession(rec, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Login.Write(rec, session.Login{State: "s", Verifier: "v"}); err != nil {
		t.Fatal(err)
	}
	store.Login.Clear(rec)
	cookies := rec.Result().Cookies()
	var names []string
	for _, ck := range cookies {
		names = append(names, ck.Name)
	}
	if strings.Join(names, " ") != "other oauth_session oauth_login" {
		t.Fatalf("Set-Cookie names %q, want other, oauth_session and oauth_login once each", names)
	}
	if cookies[2].MaxAge >= 0 {
		t.Errorf("the login cookie's last Set-Cookie should clear it: %s", cookies[2])
	}
	got, err := store.Session(carry(rec))
	if err != nil || got.Token.AccessToken != "ya29.second" {
		t.Fatalf("session = %+v, %v; want the second one", got.Token, err)
	}
}

func TestConsentMarkerExpires(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), true, c)
	rec := httptest.NewRecorder()
	if err := store.NeedsConsent.Write(rec, true); err != nil {
		t.Fatal(err)
	}
	req := carry(rec)
	if !needsConsent(store, req) {
		t.Fatal("marker not read back")
	}
	if ck := rec.Result().Cookies()[0]; ck.Name != "__Host-oauth_consent" || !ck.HttpOnly || !ck.Secure {
		t.Errorf("marker cookie attributes wrong: %s", ck)
	}
	c.t = c.t.Add(session.ConsentLifetime + time.Second)
	if needsConsent(store, req) {
		t.Fatal("marker still read after its lifetime")
	}
}

func TestSignOutOutcomeRoundTripAndExpiry(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), true, c)
	rec := httptest.NewRecorder()
	if err := store.LastSignOut.Write(rec, session.SignOut{Revoked: true}); err != nil {
		t.Fatal(err)
	}
	req := carry(rec)
	if out, err := store.LastSignOut.Read(req); err != nil || !out.Revoked {
		t.Fatalf("LastSignOut = %+v, %v; want the revoked outcome", out, err)
	}
	if ck := rec.Result().Cookies()[0]; ck.Name != "__Host-oauth_signout" || !ck.HttpOnly || !ck.Secure || ck.MaxAge != int(session.SignOutLifetime/time.Second) {
		t.Errorf("sign-out cookie attributes wrong: %s", ck)
	}
	c.t = c.t.Add(session.SignOutLifetime + time.Second)
	if _, err := store.LastSignOut.Read(req); err == nil {
		t.Fatal("the outcome is still read after its lifetime")
	}
}

// needsConsent reports whether req carries a valid consent marker.
func needsConsent(s *session.Store, req *http.Request) bool {
	v, err := s.NeedsConsent.Read(req)
	return err == nil && v
}

func TestSessionCookieOutlivesTheSession(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), false, c)
	rec := httptest.NewRecorder()
	if err := store.SetSession(rec, sampleSession(c.t)); err != nil {
		t.Fatal(err)
	}
	if got, min := rec.Result().Cookies()[0].MaxAge, int((session.SessionLifetime+time.Hour)/time.Second); got < min {
		t.Fatalf("session cookie Max-Age = %d s, want at least %d s: a browser must still send an expired session so that its refresh token is revoked", got, min)
	}
	// A day and an hour later, the cookie is still read, as an expired
	// session with its refresh token.
	c.t = c.t.Add(session.SessionLifetime + time.Hour)
	if sess, err := store.Session(carry(rec)); !errors.Is(err, session.ErrExpired) || sess.Token.RefreshToken == "" {
		t.Fatalf("Session = %+v, %v; want ErrExpired with the token", sess, err)
	}
	c.t = c.t.Add(session.SessionCookieLifetime)
	if _, err := store.Session(carry(rec)); !errors.Is(err, session.ErrExpired) {
		t.Fatalf("a cookie older than its own lifetime: err = %v, want ErrExpired", err)
	}
}

func TestSessionKeepsScopesAndAccount(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), false, c)
	rec := httptest.NewRecorder()
	want := sampleSession(c.t)
	want.Scopes = []string{"openid", "https://www.googleapis.com/auth/gmail.readonly"}
	want.Email = "alice@example.com"
	if err := store.SetSession(rec, want); err != nil {
		t.Fatal(err)
	}
	got, err := store.Session(carry(rec))
	if err != nil || strings.Join(got.Scopes, " ") != strings.Join(want.Scopes, " ") || got.Email != want.Email {
		t.Fatalf("Session = %+v (%v); want scopes %q and email %q", got, err, want.Scopes, want.Email)
	}
}

func TestSetSessionRefusesAnExpiredSession(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), false, c)
	if err := store.SetSession(httptest.NewRecorder(), sampleSession(c.t.Add(-session.SessionLifetime-time.Second))); !errors.Is(err, session.ErrExpired) {
		t.Fatalf("SetSession of a session past its lifetime: err = %v, want ErrExpired", err)
	}
}

func TestNoticeIsShownOnce(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	store := newStore(t, key(1), false, c)
	rec := httptest.NewRecorder()
	if err := store.Notice.Write(rec, "Label created"); err != nil {
		t.Fatal(err)
	}
	req := carry(rec)
	taken := httptest.NewRecorder()
	if got, err := store.Notice.Take(taken, req); err != nil || got != "Label created" {
		t.Fatalf("Take = %q, %v; want the notice", got, err)
	}
	if ck := taken.Result().Cookies(); len(ck) != 1 || ck[0].MaxAge >= 0 {
		t.Fatalf("Take did not delete the notice cookie: %v", ck)
	}
	c.t = c.t.Add(session.NoticeLifetime + time.Second)
	if _, err := store.Notice.Read(req); !errors.Is(err, session.ErrExpired) {
		t.Fatalf("a notice past its lifetime: err = %v, want ErrExpired", err)
	}
	// A notice cannot be forged: a value sealed as another cookie does not
	// open as a notice.
	forged := httptest.NewRequest(http.MethodGet, "/", nil)
	forged.AddCookie(&http.Cookie{Name: store.Notice.Name(), Value: rec.Result().Cookies()[0].Value + "x"})
	if _, err := store.Notice.Read(forged); !errors.Is(err, session.ErrInvalid) {
		t.Fatalf("a tampered notice: err = %v, want ErrInvalid", err)
	}
}
