// Package seal encrypts and authenticates short values so they can be handed
// to a browser in a cookie and trusted when they come back.
//
// A Box is one AEAD call of the standard library: AES-256-GCM, with a random
// nonce per value that crypto/cipher draws itself, so there is no second key
// or MAC to get wrong. Each Box derives its own key from the master key with
// HKDF-SHA256 and a purpose label, so a value sealed for one purpose (a
// session) never opens as another (a login in progress).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// KeySize is the length in bytes of the master key a Box is derived from.
const KeySize = 32

// MaxSealedLen is the longest sealed value, in characters, that Open will
// try to decode. Browsers keep at most about 4096 bytes per cookie, so
// anything longer did not come from this package.
const MaxSealedLen = 4096

// ErrInvalid is returned by Open for any value that is not a genuine sealed
// value of this Box: malformed, truncated, tampered with, made for another
// purpose or under another key. The cases are deliberately not told apart.
var ErrInvalid = errors.New("seal: value is not authentic")

// encoding is base64url without padding: every character survives net/http's
// cookie value sanitising and needs no quoting.
var encoding = base64.RawURLEncoding

// Box seals and opens values for one purpose under one master key.
// It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box whose key is derived from masterKey for purpose.
// masterKey must be KeySize bytes of uniformly random data.
func New(masterKey []byte, purpose string) (*Box, error) {
	if len(masterKey) != KeySize {
		return nil, fmt.Errorf("seal: master key is %d bytes, want %d", len(masterKey), KeySize)
	}
	if purpose == "" {
		return nil, errors.New("seal: empty purpose")
	}
	key, err := hkdf.Key(sha256.New, masterKey, nil, "gcf-oauth-gmail seal v1 "+purpose, 32)
	if err != nil {
		return nil, fmt.Errorf("seal: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext and binds it to associatedData (for example the
// cookie name), returning printable text safe for a cookie value.
func (b *Box) Seal(plaintext, associatedData []byte) string {
	// The nonce argument is nil because NewGCMWithRandomNonce draws a fresh
	// random nonce for every call and prepends it to the ciphertext.
	return encoding.EncodeToString(b.aead.Seal(nil, nil, plaintext, associatedData)) // #nosec G407 -- nonce is random per call, see above
}

// Open returns the plaintext of a value made by Seal with the same
// associatedData, or ErrInvalid.
func (b *Box) Open(sealed string, associatedData []byte) ([]byte, error) {
	if len(sealed) > MaxSealedLen {
		return nil, ErrInvalid
	}
	raw, err := encoding.DecodeString(sealed)
	if err != nil {
		return nil, ErrInvalid
	}
	plaintext, err := b.aead.Open(nil, nil, raw, associatedData)
	if err != nil {
		return nil, ErrInvalid
	}
	return plaintext, nil
}
