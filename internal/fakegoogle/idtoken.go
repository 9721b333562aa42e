package fakegoogle

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Issuer is the "iss" of the ID tokens the emulator issues, Google's.
const Issuer = "https://accounts.google.com"

// idTokenLifetime is how long an ID token says it is valid, as Google's.
const idTokenLifetime = time.Hour

// idTokenKeyID is the "kid" of the ID tokens' header.
const idTokenKeyID = "fakegoogle-demo-key"

// idClaims are the claims of an ID token, as Google sends them. Email and
// EmailVerified are there when the grant has the email scope, Name when it
// has the profile scope.
type idClaims struct {
	Issuer        string `json:"iss"`
	AuthorizedFor string `json:"azp"`
	Audience      string `json:"aud"`
	Subject       string `json:"sub"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	AtHash        string `json:"at_hash"`
	Name          string `json:"name,omitempty"`
	IssuedAt      int64  `json:"iat"`
	Expires       int64  `json:"exp"`
}

// Subject returns the "sub" of the ID tokens of the account with this
// email: 21 digits, like Google's account IDs, the same for every token of
// the account on every Server.
func Subject(email string) string {
	sum := sha256.Sum256([]byte("fakegoogle subject\x00" + strings.ToLower(email)))
	return fmt.Sprintf("1%020d", binary.BigEndian.Uint64(sum[:8]))
}

// idToken returns the ID token of grant g issued with access token access,
// or "" when g lacks the openid scope. Its signature is RS256-sized but made
// with the Server's own secret: the application reads an ID token it got
// straight from the token endpoint over TLS without checking the signature
// (OpenID Connect Core 3.1.3.7). Call with s.mu held.
func (s *Server) idToken(g *grant, access string, now time.Time) string {
	if !slices.Contains(g.scopes, openIDScope) {
		return ""
	}
	account := s.accounts[g.account]
	atHash := sha256.Sum256([]byte(access))
	claims := idClaims{
		Issuer:        Issuer,
		AuthorizedFor: g.clientID,
		Audience:      g.clientID,
		Subject:       Subject(account.Email),
		AtHash:        base64.RawURLEncoding.EncodeToString(atHash[:16]),
		IssuedAt:      now.Unix(),
		Expires:       now.Add(idTokenLifetime).Unix(),
	}
	if slices.Contains(g.scopes, UserinfoEmailScope) {
		claims.Email, claims.EmailVerified = account.Email, true
	}
	if slices.Contains(g.scopes, userinfoProfileScope) {
		claims.Name = account.Name
	}
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": idTokenKeyID, "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	signed := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	// 256 bytes, the size of an RS256 signature with a 2048-bit key.
	var sig []byte
	for i := byte(0); len(sig) < 256; i++ {
		m := hmac.New(sha256.New, s.idKey)
		m.Write([]byte{i})
		m.Write([]byte(signed))
		sig = m.Sum(sig)
	}
	tok := signed + "." + base64.RawURLEncoding.EncodeToString(sig)
	s.store.secrets = append(s.store.secrets, tok)
	return tok
}
