package session

import (
	"encoding/json"
	"time"

	"golang.org/x/oauth2"
)

// sessionPayload is the sealed JSON form of a Session. Short keys keep the
// cookie small; times are Unix seconds.
type sessionPayload struct {
	Version      int    `json:"v"`
	AccessToken  string `json:"a"`
	TokenType    string `json:"t,omitempty"`
	RefreshToken string `json:"r,omitempty"`
	Expiry       int64  `json:"e,omitempty"`
	SignedInAt   int64  `json:"s"`
	IssuedAt     int64  `json:"i"`
}

// loginPayload is the sealed JSON form of a Login.
type loginPayload struct {
	Version  int    `json:"v"`
	State    string `json:"s"`
	Verifier string `json:"p"`
	Next     string `json:"n,omitempty"`
	IssuedAt int64  `json:"i"`
}

// consentPayload is the sealed JSON form of the consent marker.
type consentPayload struct {
	Version  int   `json:"v"`
	IssuedAt int64 `json:"i"`
}

const payloadVersion = 1

func encodeSession(s Session, now time.Time) ([]byte, error) {
	p := sessionPayload{Version: payloadVersion, SignedInAt: s.SignedInAt.Unix(), IssuedAt: now.Unix()}
	if t := s.Token; t != nil {
		p.AccessToken, p.TokenType, p.RefreshToken = t.AccessToken, t.TokenType, t.RefreshToken
		if !t.Expiry.IsZero() {
			p.Expiry = t.Expiry.Unix()
		}
	}
	// The payload holds tokens by design: the caller seals it at once.
	return json.Marshal(p) // #nosec G117 -- sealed with AES-GCM before it leaves the process
}

func decodeSession(data []byte) (Session, time.Time, error) {
	var p sessionPayload
	if err := json.Unmarshal(data, &p); err != nil || p.Version != payloadVersion || p.AccessToken == "" {
		return Session{}, time.Time{}, ErrInvalid
	}
	tok := &oauth2.Token{AccessToken: p.AccessToken, TokenType: p.TokenType, RefreshToken: p.RefreshToken}
	if p.Expiry != 0 {
		tok.Expiry = time.Unix(p.Expiry, 0)
	}
	return Session{Token: tok, SignedInAt: time.Unix(p.SignedInAt, 0)}, time.Unix(p.IssuedAt, 0), nil
}

func encodeLogin(l Login) ([]byte, error) {
	return json.Marshal(loginPayload{Version: payloadVersion, State: l.State, Verifier: l.Verifier, Next: l.Next, IssuedAt: l.IssuedAt.Unix()})
}

func decodeLogin(data []byte) (Login, error) {
	var p loginPayload
	if err := json.Unmarshal(data, &p); err != nil || p.Version != payloadVersion || p.State == "" || p.Verifier == "" {
		return Login{}, ErrInvalid
	}
	return Login{State: p.State, Verifier: p.Verifier, Next: p.Next, IssuedAt: time.Unix(p.IssuedAt, 0)}, nil
}

func encodeConsent(now time.Time) ([]byte, error) {
	return json.Marshal(consentPayload{Version: payloadVersion, IssuedAt: now.Unix()})
}

func decodeConsent(data []byte) (time.Time, error) {
	var p consentPayload
	if err := json.Unmarshal(data, &p); err != nil || p.Version != payloadVersion || p.IssuedAt == 0 {
		return time.Time{}, ErrInvalid
	}
	return time.Unix(p.IssuedAt, 0), nil
}

// signOutPayload is the sealed JSON form of a SignOut.
type signOutPayload struct {
	Version int   `json:"v"`
	Revoked bool  `json:"r,omitempty"`
	At      int64 `json:"i"`
}

func encodeSignOut(out SignOut) ([]byte, error) {
	return json.Marshal(signOutPayload{Version: payloadVersion, Revoked: out.Revoked, At: out.At.Unix()})
}

func decodeSignOut(data []byte) (SignOut, error) {
	var p signOutPayload
	if err := json.Unmarshal(data, &p); err != nil || p.Version != payloadVersion || p.At == 0 {
		return SignOut{}, ErrInvalid
	}
	return SignOut{Revoked: p.Revoked, At: time.Unix(p.At, 0)}, nil
}
