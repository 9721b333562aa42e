package oauthgmail

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"golang.org/x/oauth2"
)

// accountOf returns the Google account named by the ID token of a token
// response, or "" when there is none or it is not for this app. The ID token
// came straight from Google's token endpoint over TLS, so its signature
// need not be checked (OpenID Connect Core 1.0, 3.1.3.7); only its payload is
// read, for the pages to show who is signed in: nothing is authorised by it.
func accountOf(tok *oauth2.Token, clientID string) string {
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Audience string `json:"aud"`
		Email    string `json:"email"`
		Verified bool   `json:"email_verified"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Audience != clientID || !claims.Verified {
		return ""
	}
	return claims.Email
}
