package server

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"

	"github.com/sirupsen/logrus"
)

// RouteEngineLogs sends what the libraries under the server log to l.
// GMS logs through logrus's standard logger, and points vitess's logger
// (the wire protocol) at it too (go-mysql-server/log.go); by default that
// is unstructured text on stderr, at levels meant for a database operator:
// every connection at Info, every failed query at Warn.
//
// logrus's standard logger is process-wide, so this is a process-wide
// setting: call it once, from main, before serving. It is the only place
// stripesql touches logrus.
//
// Levels are lowered to fit stripesql, where clients are told about their
// own errors: logrus Error and worse become Warn, everything else Debug.
// GMS's Trace output (every row) is never produced.
func RouteEngineLogs(l *slog.Logger) {
	std := logrus.StandardLogger()
	std.SetOutput(io.Discard) // the hook is the only output
	std.ReplaceHooks(logrus.LevelHooks{})
	std.AddHook(logrusHook{l.With("component", "gms")})
	if l.Enabled(context.Background(), slog.LevelDebug) {
		std.SetLevel(logrus.DebugLevel)
	} else {
		// Do not build entries that would be dropped.
		std.SetLevel(logrus.ErrorLevel)
	}
}

// logrusHook forwards logrus entries to slog.
type logrusHook struct{ log *slog.Logger }

func (logrusHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h logrusHook) Fire(e *logrus.Entry) error {
	level := slog.LevelDebug
	if e.Level <= logrus.ErrorLevel {
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !h.log.Enabled(ctx, level) {
		return nil
	}
	// GMS logs statements (at Debug, and with their errors): mask the
	// passwords of CREATE USER and the like.
	attrs := make([]slog.Attr, 0, len(e.Data))
	for _, k := range slices.Sorted(maps.Keys(e.Data)) {
		v := e.Data[k]
		if s, ok := v.(string); ok {
			v = RedactPasswords(s)
		} else if err, ok := v.(error); ok {
			v = RedactPasswords(err.Error())
		}
		attrs = append(attrs, slog.Any(k, v))
	}
	h.log.LogAttrs(ctx, level, RedactPasswords(e.Message), attrs...)
	return nil
}
