package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/stripesql/stripesql/server"
	"github.com/stripesql/stripesql/stripeapi"
)

// levels maps --verbosity to the least severe level logged. Verbosity 5
// adds stripeapi's wire log, which is below Debug.
var levels = [...]slog.Level{
	1: slog.LevelError,
	2: slog.LevelWarn,
	3: slog.LevelInfo,
	4: slog.LevelDebug,
	5: stripeapi.LevelTrace,
}

// levelStartup is the level of the line that says what is served and
// where: above Error, so that it is logged at every verbosity (with
// --listen 127.0.0.1:0 it is the only way to learn the port), and shown
// as INFO, which it is.
const levelStartup = slog.LevelError + 4

// newLogger returns the logger of cfg: text or JSON on w, at the
// verbosity's level, with every secret of cfg redacted from every record.
func newLogger(cfg serveConfig, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{
		Level: levels[cfg.verbosity],
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey && len(groups) == 0 {
				if l, ok := a.Value.Any().(slog.Level); ok && l == stripeapi.LevelTrace {
					a.Value = slog.StringValue("TRACE")
				} else if ok && l == levelStartup {
					a.Value = slog.StringValue("INFO")
				}
			}
			return a
		},
	}
	var h slog.Handler
	if cfg.logFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(&redactHandler{next: h, secrets: logSecrets(cfg.secrets())})
}

// minSecretLen is the shortest secret the log handler redacts: replacing
// every "ab" in every log line would make the logs unreadable while hiding
// little. Such a short secret is not written by this program anyway; the
// handler is a second line of defence.
const minSecretLen = 4

func logSecrets(all []string) []string {
	var out []string
	for _, s := range all {
		if len(s) >= minSecretLen {
			out = append(out, s)
		}
	}
	return out
}

// redactSecrets replaces every non-empty secret in s, and the passwords
// of SQL statements (CREATE USER … IDENTIFIED BY '…' and the like), which
// are nobody's configuration but may be logged with a statement.
func redactSecrets(s string, secrets []string) string {
	s = server.RedactPasswords(s)
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// redactHandler is a slog.Handler that removes secrets from messages and
// attribute values (strings, and the text of errors and other values),
// whoever logs them: stripesql, stripeapi, or the SQL engine.
type redactHandler struct {
	next    slog.Handler
	secrets []string
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redactSecrets(r.Message, h.secrets), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &redactHandler{next: h.next.WithAttrs(clean), secrets: h.secrets}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	return &redactHandler{next: h.next.WithGroup(name), secrets: h.secrets}
}

// attr returns a with the secrets removed from its value.
func (h *redactHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(redactSecrets(v.String(), h.secrets))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]slog.Attr, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		a.Value = slog.GroupValue(clean...)
	case slog.KindAny:
		// Errors, Stringers and the rest are logged as their text: check it.
		s := fmt.Sprint(v.Any())
		if r := redactSecrets(s, h.secrets); r != s {
			a.Value = slog.StringValue(r)
		} else {
			a.Value = v
		}
	default:
		a.Value = v
	}
	return a
}
