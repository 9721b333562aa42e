package fakegoogle

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Fault is a failure to inject into a group of routes. At most one of Hang,
// Malformed, HugeBody and Status takes effect, in that order; RetryAfter goes
// with any of them.
type Fault struct {
	// Status is the HTTP status to answer with, e.g. 401, 403, 429, 500,
	// 503; 0 means no status fault.
	Status int
	// Reason is the Google error reason in the JSON body for the Gmail
	// routes, e.g. "rateLimitExceeded", "userRateLimitExceeded",
	// "insufficientPermissions", "backendError" (empty: the usual one for
	// Status); for the token and revocation endpoints it is the OAuth error
	// code, e.g. "invalid_grant" (empty: "server_error").
	Reason string
	// RetryAfter, when not empty, is sent as the Retry-After header.
	RetryAfter string
	// Hang never answers: the request blocks until the client gives up (its
	// context ends and the connection closes) or Server.Close is called.
	Hang bool
	// Malformed answers 200 with a body the client cannot parse: truncated
	// JSON labelled application/json for Gmail, an HTML page for the token
	// and revocation endpoints.
	Malformed bool
	// HugeBody answers 200 with a syntactically valid JSON body of this many
	// bytes, streamed rather than built in memory.
	HugeBody int64
	// Times is how many requests the fault applies to; 0 means until
	// ClearFaults or the next Fail call for the same routes.
	Times int
}

// active reports whether f injects anything.
func (f Fault) active() bool {
	return f.Status != 0 || f.Hang || f.Malformed || f.HugeBody > 0
}

// faultTarget names a group of routes that share a fault.
type faultTarget int

const (
	faultGmail faultTarget = iota
	faultToken
	faultRevoke
	faultTargets
)

// faultSlot is the fault set for one target and how many uses it has left.
type faultSlot struct {
	fault     Fault
	remaining int // when fault.Times > 0
}

// FailGmail makes Gmail's methods (users.labels.list and create) fail with f,
// replacing any earlier Gmail fault. A zero Fault clears it.
func (s *Server) FailGmail(f Fault) { s.setFault(faultGmail, f) }

// FailToken makes POST /token fail with f, replacing any earlier token fault.
// A zero Fault clears it. Note that golang.org/x/oauth2 with an unknown auth
// style retries a failed token request once with the other client
// authentication style, so a Fault with Times 1 can go unnoticed by it.
func (s *Server) FailToken(f Fault) { s.setFault(faultToken, f) }

// FailRevoke makes the revocation endpoint fail with f, replacing any earlier
// revocation fault. A zero Fault clears it.
func (s *Server) FailRevoke(f Fault) { s.setFault(faultRevoke, f) }

// ClearFaults removes every injected fault. Requests already hanging stay
// hung until their client gives up or Close is called.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.fault {
		s.fault[i] = faultSlot{}
	}
}

// Hanging returns how many requests a Hang fault is holding right now.
func (s *Server) Hanging() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hanging
}

func (s *Server) setFault(t faultTarget, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault[t] = faultSlot{fault: f, remaining: f.Times}
}

// takeFault returns the fault to apply to one request of target t, counting
// it against Times.
func (s *Server) takeFault(t faultTarget) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slot := &s.fault[t]
	f := slot.fault
	if !f.active() {
		return Fault{}, false
	}
	if f.Times > 0 {
		slot.remaining--
		if slot.remaining <= 0 {
			*slot = faultSlot{}
		}
	}
	return f, true
}

// injectFault applies the fault set for target t, if any, and reports whether
// it answered the request.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, t faultTarget) bool {
	f, ok := s.takeFault(t)
	if !ok {
		return false
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	switch {
	case f.Hang:
		// net/http notices that the client went away (and cancels the
		// request's context) only once the request body has been read.
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxFormBytes))
		s.mu.Lock()
		s.hanging++
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.hanging--
			s.mu.Unlock()
		}()
		select {
		case <-r.Context().Done():
			// The client gave up; nobody is listening.
		case <-s.closed:
			writeStatusFault(w, t, Fault{Status: http.StatusServiceUnavailable})
		}
	case f.Malformed:
		writeMalformed(w, t)
	case f.HugeBody > 0:
		writeHugeBody(w, r, t, f.HugeBody)
	default:
		writeStatusFault(w, t, f)
	}
	return true
}

// writeStatusFault answers with f.Status in the error format of the target.
func writeStatusFault(w http.ResponseWriter, t faultTarget, f Fault) {
	if t == faultGmail {
		writeAPIError(w, f.Status, f.Reason, "")
		return
	}
	code := f.Reason
	if code == "" {
		code = "server_error"
	}
	writeOAuthError(w, f.Status, code, "")
}

// writeMalformed answers 200 with a body that is not what the client expects.
func writeMalformed(w http.ResponseWriter, t faultTarget) {
	if t == faultGmail {
		body := `{"labels":[{"id":"INBOX","name":"INBOX","type":"sys`
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(body))
		return
	}
	body := "<!DOCTYPE html>\n<html lang=en><title>Error 502</title><p>The server encountered a temporary error.</p></html>\n"
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

// hugeChunk is the unit of padding of huge token and revocation bodies.
var hugeChunk = sync.OnceValue(func() string { return strings.Repeat("x", 32<<10) })

// writeHugeBody streams a valid JSON document of exactly size bytes (or the
// smallest valid one, if size is smaller): for Gmail a labels list with very
// many labels, elsewhere an object with one huge string. It stops early when
// the client goes away.
func writeHugeBody(w http.ResponseWriter, r *http.Request, t faultTarget, size int64) {
	head, tail, filler := `{"padding":"`, `"}`, "x"
	piece := func(int) string { return hugeChunk() }
	if t == faultGmail {
		head, tail, filler = `{"labels":[`, `]}`, " "
		piece = func(i int) string {
			n := strconv.Itoa(i + 1)
			p := `{"id":"Label_bulk_` + n + `","name":"Bulk label ` + n + `","type":"user"}`
			if i > 0 {
				p = "," + p
			}
			return p
		}
	}
	size = max(size, int64(len(head)+len(tail)))
	remaining := size - int64(len(head)+len(tail))
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	_, _ = bw.WriteString(head)
	for i := 0; remaining > 0; i++ {
		p := piece(i)
		if int64(len(p)) > remaining {
			p = strings.Repeat(filler, int(remaining))
		}
		if _, err := bw.WriteString(p); err != nil || r.Context().Err() != nil {
			return
		}
		remaining -= int64(len(p))
	}
	_, _ = bw.WriteString(tail)
	_ = bw.Flush()
}
