package seal_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"example.com/gcf-oauth-gmail/internal/seal"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}

func mustBox(t testing.TB, key []byte, purpose string) *seal.Box {
	t.Helper()
	b, err := seal.New(key, purpose)
	if err != nil {
		t.Fatalf("seal.New: %v", err)
	}
	return b
}

func TestSealThenOpenReturnsPlaintext(t *testing.T) {
	box := mustBox(t, newKey(t), "session")
	for _, plaintext := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("token"), 500)} {
		sealed := box.Seal(plaintext, []byte("name"))
		got, err := box.Open(sealed, []byte("name"))
		if err != nil {
			t.Fatalf("Open(Seal(%d bytes)): %v", len(plaintext), err)
		}
		if !bytes.Equal(got, plaintext) {
			t.Fatalf("Open returned %q, want %q", got, plaintext)
		}
	}
}

func TestSealedValueHidesPlaintextAndUsesCookieSafeAlphabet(t *testing.T) {
	box := mustBox(t, newKey(t), "session")
	secret := []byte("ya29.very-secret-access-token")
	sealed := box.Seal(secret, nil)
	if strings.ContainsAny(sealed, "=+/;, \"\\") {
		t.Fatalf("sealed value %q has characters outside base64url", sealed)
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		t.Fatalf("sealed value is not base64url: %v", err)
	}
	if bytes.Contains(raw, secret) || strings.Contains(sealed, string(secret)) {
		t.Fatal("sealed value contains the plaintext")
	}
	if again := box.Seal(secret, nil); again == sealed {
		t.Fatal("sealing the same plaintext twice gave the same value; nonces are not random")
	}
}

func TestOpenRejectsValuesThatAreNotAuthentic(t *testing.T) {
	key := newKey(t)
	box := mustBox(t, key, "session")
	good := box.Seal([]byte(`{"a":"token"}`), []byte("session"))
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)/2] ^= 0x01

	tests := []struct {
		name   string
		box    *seal.Box
		value  string
		adData string
	}{
		{"empty", box, "", "session"},
		{"not base64", box, "!!!not-base64!!!", "session"},
		{"truncated", box, good[:len(good)-4], "session"},
		{"shorter than overhead", box, base64.RawURLEncoding.EncodeToString(raw[:10]), "session"},
		{"one bit flipped", box, base64.RawURLEncoding.EncodeToString(flipped), "session"},
		{"other associated data", box, good, "state"},
		{"other purpose", mustBox(t, key, "login"), good, "session"},
		{"other key", mustBox(t, newKey(t), "session"), good, "session"},
		{"too long", box, strings.Repeat("A", seal.MaxSealedLen+1), "session"},
		{"padded", box, good + "==", "session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.value, []byte(tt.adData))
			if !errors.Is(err, seal.ErrInvalid) {
				t.Fatalf("Open = %q, %v; want ErrInvalid", got, err)
			}
		})
	}
}

func TestNewRejectsBadKeysAndPurposes(t *testing.T) {
	tests := []struct {
		name    string
		key     []byte
		purpose string
	}{
		{"short key", make([]byte, 16), "session"},
		{"long key", make([]byte, 64), "session"},
		{"no key", nil, "session"},
		{"empty purpose", make([]byte, seal.KeySize), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := seal.New(tt.key, tt.purpose); err == nil {
				t.Fatal("New succeeded, want an error")
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	key := bytes.Repeat([]byte{7}, seal.KeySize)
	box, err := seal.New(key, "session")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(box.Seal([]byte("hello"), []byte("n")), "n")
	f.Add("", "n")
	f.Add("AAAA", "")
	f.Add(strings.Repeat("_", 100), "n")
	f.Fuzz(func(t *testing.T, value, adData string) {
		plaintext, err := box.Open(value, []byte(adData))
		if err != nil {
			if !errors.Is(err, seal.ErrInvalid) {
				t.Fatalf("Open returned %v, want ErrInvalid or success", err)
			}
			return
		}
		// Only a genuine value opens; resealing it must round-trip.
		again, err := box.Open(box.Seal(plaintext, []byte(adData)), []byte(adData))
		if err != nil || !bytes.Equal(again, plaintext) {
			t.Fatalf("reseal round trip failed: %v", err)
		}
	})
}

func BenchmarkOpen(b *testing.B) {
	box := mustBox(b, newKey(b), "session")
	sealed := box.Seal(bytes.Repeat([]byte("t"), 400), []byte("session"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := box.Open(sealed, []byte("session")); err != nil {
			b.Fatal(err)
		}
	}
}
