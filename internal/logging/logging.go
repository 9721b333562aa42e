// Package logging writes the program's log lines as the JSON objects Cloud
// Logging reads: one object per line with "severity", "message" and, inside a
// request, the request's trace, span and execution id. For a person at a
// terminal it can write the same records as readable text lines instead.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Formats of the lines, as the LOG_FORMAT environment variable names them:
// FormatJSON, one Cloud Logging JSON object per line, is the default and what
// a deployed function always writes; FormatText, one readable key=value line
// per record, is for a person reading a terminal.
const (
	FormatJSON = "json"
	FormatText = "text"
)

// MaxValueBytes is the most bytes of one logged string (the message or an
// attribute's value) that reach a line; a longer one is cut, and says so.
const MaxValueBytes = 4 << 10

// New returns a logger writing JSON lines to w. projectID, when known, turns
// trace ids into the full resource names Cloud Logging uses to group a
// request's lines.
func New(w io.Writer, projectID string) *slog.Logger {
	return NewFormat(w, projectID, FormatJSON)
}

// NewFormat returns a logger writing lines in format to w: readable text for
// FormatText, Cloud Logging JSON for anything else, so that a mistyped
// setting never costs a deployed function its logs.
func NewFormat(w io.Writer, projectID, format string) *slog.Logger {
	text := format == FormatText
	// Both formats name levels as Cloud Logging does and cut long values;
	// JSON also takes Cloud Logging's key names, text a shorter time.
	rename := func(groups []string, a slog.Attr) slog.Attr {
		a.Value = capped(a.Value)
		if len(groups) > 0 {
			return a
		}
		switch {
		case a.Key == slog.LevelKey:
			a.Value = slog.StringValue(Severity(a.Value.Any().(slog.Level)))
			if !text {
				a.Key = "severity"
			}
		case a.Key == slog.MessageKey && !text:
			a.Key = "message"
		case a.Key == slog.TimeKey && text:
			a.Value = slog.StringValue(a.Value.Time().Format("15:04:05.000"))
		}
		return a
	}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: rename}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if text {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(&traceHandler{Handler: h, projectID: projectID})
}

// capped returns v, or v cut to MaxValueBytes when it is a longer string or
// error.
func capped(v slog.Value) slog.Value {
	var s string
	if err, ok := v.Any().(error); ok {
		s = err.Error()
	} else if v.Kind() == slog.KindString {
		s = v.String()
	} else {
		return v
	}
	if len(s) <= MaxValueBytes {
		return v
	}
	n := MaxValueBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return slog.StringValue(fmt.Sprintf("%s…[%d more bytes cut]", s[:n], len(s)-n))
}

// Severity maps a slog level to a Cloud Logging severity name.
func Severity(level slog.Level) string {
	switch {
	case level < slog.LevelInfo:
		return "DEBUG"
	case level < slog.LevelWarn:
		return "INFO"
	case level < slog.LevelError:
		return "WARNING"
	case level < slog.LevelError+4:
		return "ERROR"
	default:
		return "CRITICAL"
	}
}

// traceHandler adds the request's trace, span and execution ids, when they
// are well formed, to each record logged with the request's context, under
// the keys Cloud Logging groups a request's lines by.
type traceHandler struct {
	slog.Handler
	projectID string
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	ids := requestIDsFrom(ctx)
	if traceID.MatchString(ids.trace) {
		trace := ids.trace
		if h.projectID != "" {
			trace = "projects/" + h.projectID + "/traces/" + trace
		}
		r.AddAttrs(slog.String("logging.googleapis.com/trace", trace))
		if spanID.MatchString(ids.span) && strings.Trim(ids.span, "0") != "" {
			r.AddAttrs(slog.String("logging.googleapis.com/spanId", ids.span))
		}
	}
	if executionID.MatchString(ids.execution) {
		r.AddAttrs(slog.String("execution_id", ids.execution))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithAttrs(attrs), projectID: h.projectID}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithGroup(name), projectID: h.projectID}
}
