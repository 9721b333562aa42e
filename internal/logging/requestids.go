package logging

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

// Bounds of the ids a request brings in its headers. Any client can send
// those headers, so an id is logged only when it has the form Google gives
// it; anything else is left out of the line.
const (
	// traceIDLength is the length of a Cloud Trace id: 32 hex digits.
	traceIDLength = 32
	// maxSpanIDLength fits a 64-bit span id in decimal (20 digits), as
	// X-Cloud-Trace-Context carries it, or in hex (16).
	maxSpanIDLength = 20
	// maxExecutionIDLength is well above the dozen characters of the ids
	// Cloud Functions sends.
	maxExecutionIDLength = 64
)

// requestIDs are what a request's headers say about where its lines belong.
type requestIDs struct {
	trace, span, execution string
}

type requestIDsKey struct{}

// requestIDsFrom returns the ids WithRequestIDs put in ctx or, failing that,
// the ones functions-framework put there. Neither is checked yet.
func requestIDsFrom(ctx context.Context) requestIDs {
	if ids, ok := ctx.Value(requestIDsKey{}).(requestIDs); ok {
		return ids
	}
	return requestIDs{
		trace:     funcframework.TraceIDFromContext(ctx),
		span:      funcframework.SpanIDFromContext(ctx),
		execution: funcframework.ExecutionIDFromContext(ctx),
	}
}

// WithRequestIDs returns h with each request's trace, span and execution ids
// in its context, read from the X-Cloud-Trace-Context and
// Function-Execution-Id headers, as functions-framework does for the
// functions it serves. It is for a server other than the framework's (the
// local runner), so that lines are the same under both. A request whose
// Function-Execution-Id is missing or malformed gets a fresh one, so that
// its lines can still be told from other requests'.
func WithRequestIDs(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids := requestIDs{execution: r.Header.Get("Function-Execution-Id")}
		if !validExecutionID(ids.execution) {
			ids.execution = rand.Text()
		}
		// TRACE_ID/SPAN_ID;o=OPTIONS
		traceContext, _, _ := strings.Cut(r.Header.Get("X-Cloud-Trace-Context"), ";")
		ids.trace, ids.span, _ = strings.Cut(traceContext, "/")
		if ids.span == "0" {
			ids.span = "" // no span
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDsKey{}, ids)))
	})
}

// WithExecutionID returns r, or r with a fresh execution id in its context
// when the one it came with is missing or malformed, so that every line
// logged for r carries one. functions-framework keeps whatever
// Function-Execution-Id a request brings, and a malformed one is never
// logged; each function calls this first, under any server.
func WithExecutionID(r *http.Request) *http.Request {
	ids := requestIDsFrom(r.Context())
	if validExecutionID(ids.execution) {
		return r
	}
	ids.execution = rand.Text()
	return r.WithContext(context.WithValue(r.Context(), requestIDsKey{}, ids))
}

func validTraceID(s string) bool {
	return len(s) == traceIDLength && allHex(s)
}

func validSpanID(s string) bool {
	return len(s) > 0 && len(s) <= maxSpanIDLength && allHex(s) && strings.Trim(s, "0") != ""
}

func validExecutionID(s string) bool {
	if len(s) == 0 || len(s) > maxExecutionIDLength {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func allHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
