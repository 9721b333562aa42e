package logging

import (
	"context"
	"crypto/rand"
	"net/http"
	"regexp"
	"strings"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

// The forms of the ids a request brings in its headers. Any client can send
// those headers, so an id is logged only when it has the form Google gives
// it; anything else is left out of the line.
var (
	// traceID is a Cloud Trace id: 32 hex digits.
	traceID = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	// spanID fits a 64-bit span id in decimal (20 digits), as
	// X-Cloud-Trace-Context carries it, or in hex (16). All zeros means no
	// span.
	spanID = regexp.MustCompile(`^[0-9a-fA-F]{1,20}$`)
	// executionID allows well above the dozen characters of the ids Cloud
	// Functions sends.
	executionID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
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
// Function-Execution-Id headers as functions-framework does, so that a
// server other than the framework's (the local runner) logs the same lines.
// Like WithExecutionID, it gives a request without a well-formed execution
// id a fresh one.
func WithRequestIDs(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids := requestIDs{execution: r.Header.Get("Function-Execution-Id")}
		// TRACE_ID/SPAN_ID;o=OPTIONS
		traceContext, _, _ := strings.Cut(r.Header.Get("X-Cloud-Trace-Context"), ";")
		ids.trace, ids.span, _ = strings.Cut(traceContext, "/")
		h.ServeHTTP(w, WithExecutionID(r.WithContext(context.WithValue(r.Context(), requestIDsKey{}, ids))))
	})
}

// WithExecutionID returns r, or r with a fresh execution id in its context
// when the one it came with is missing or malformed, so that every line
// logged for r carries one. functions-framework keeps whatever
// Function-Execution-Id a request brings, and a malformed one is never
// logged; each function calls this first, under any server.
func WithExecutionID(r *http.Request) *http.Request {
	ids := requestIDsFrom(r.Context())
	if executionID.MatchString(ids.execution) {
		return r
	}
	ids.execution = rand.Text()
	return r.WithContext(context.WithValue(r.Context(), requestIDsKey{}, ids))
}
