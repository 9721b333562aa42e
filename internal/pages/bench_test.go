package pages

import (
	"net/http"
	"testing"
)

// discardWriter is a ResponseWriter that keeps nothing but its header.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkWriteLabels renders the labels page of the demo account.
func BenchmarkWriteLabels(b *testing.B) {
	data := Labels{Email: "alice@example.com", Count: 17,
		System: []string{"CATEGORY_FORUMS", "CATEGORY_PERSONAL", "CATEGORY_PROMOTIONS", "CATEGORY_SOCIAL", "CATEGORY_UPDATES", "CHAT", "DRAFT", "IMPORTANT", "INBOX", "SENT", "SPAM", "STARRED", "TRASH", "UNREAD"},
		User:   []string{"Receipts", "Travel", "Work"}}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		WriteLabels(w, data)
	}
}
