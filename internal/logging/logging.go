// Package logging writes the program's log lines as the JSON objects Cloud
// Logging reads: one object per line with "severity", "message" and, inside a
// request, the request's trace, span and execution id.
package logging

import (
	"context"
	"io"
	"log/slog"
)

// Field names Cloud Logging gives a meaning to in a structured log line.
const (
	severityKey    = "severity"
	messageKey     = "message"
	traceKey       = "logging.googleapis.com/trace"
	spanKey        = "logging.googleapis.com/spanId"
	executionIDKey = "execution_id"
)

// New returns a logger writing to w. projectID, when known, turns trace ids
// into the full resource names Cloud Logging uses to group a request's lines.
func New(w io.Writer, projectID string) *slog.Logger {
	json := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       slog.LevelDebug,
		ReplaceAttr: cloudLoggingNames,
	})
	return slog.New(&traceHandler{Handler: json, projectID: projectID})
}

// cloudLoggingNames renames slog's built-in keys and levels.
func cloudLoggingNames(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = messageKey
	case slog.LevelKey:
		a.Key = severityKey
		a.Value = slog.StringValue(Severity(a.Value.Any().(slog.Level)))
	}
	return a
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
// are well formed, to each record logged with the request's context.
type traceHandler struct {
	slog.Handler
	projectID string
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		ids := requestIDsFrom(ctx)
		if validTraceID(ids.trace) {
			trace := ids.trace
			if h.projectID != "" {
				trace = "projects/" + h.projectID + "/traces/" + trace
			}
			r.AddAttrs(slog.String(traceKey, trace))
			if validSpanID(ids.span) {
				r.AddAttrs(slog.String(spanKey, ids.span))
			}
		}
		if validExecutionID(ids.execution) {
			r.AddAttrs(slog.String(executionIDKey, ids.execution))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithAttrs(attrs), projectID: h.projectID}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithGroup(name), projectID: h.projectID}
}
