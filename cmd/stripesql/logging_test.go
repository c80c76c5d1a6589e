package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stripesql/stripesql/stripeapi"
)

func TestLoggerRedactsSecretsEverywhere(t *testing.T) {
	cfg := serveConfig{verbosity: 5, logFormat: "text", apiKey: "sk_live_KEYcanary", password: "mysql-PWcanary",
		proxy: "http://u:urlPWcanary@proxy.example:3128", proxyPassword: "proxyPWcanary"}
	var out bytes.Buffer
	log := newLogger(cfg, &out).With("with", "key sk_live_KEYcanary")
	log.Log(context.Background(), stripeapi.LevelTrace, "sent sk_live_KEYcanary",
		"s", "pw mysql-PWcanary",
		"err", errors.New("proxy said urlPWcanary"),
		slog.Group("g", "h", "proxyPWcanary", "n", 3))
	log.WithGroup("grp").Info("plain", "ok", "visible")
	got := out.String()
	for _, secret := range []string{"KEYcanary", "mysql-PWcanary", "urlPWcanary", "proxyPWcanary"} {
		if strings.Contains(got, secret) {
			t.Errorf("logs contain %s:\n%s", secret, got)
		}
	}
	for _, want := range []string{
		`level=TRACE msg="sent [redacted]" with="key [redacted]" s="pw [redacted]" err="proxy said [redacted]" g.h=[redacted] g.n=3`,
		`level=INFO msg=plain with="key [redacted]" grp.ok=visible`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("logs lack %q:\n%s", want, got)
		}
	}
}

func TestLoggerVerbosityAndFormat(t *testing.T) {
	for v, want := range map[int][]string{
		1: {"ERROR"},
		2: {"ERROR", "WARN"},
		3: {"ERROR", "WARN", "INFO"},
		4: {"ERROR", "WARN", "INFO", "DEBUG"},
		5: {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"},
	} {
		var out bytes.Buffer
		log := newLogger(serveConfig{verbosity: v, logFormat: "json"}, &out)
		for _, l := range []slog.Level{slog.LevelError, slog.LevelWarn, slog.LevelInfo, slog.LevelDebug, stripeapi.LevelTrace} {
			log.Log(context.Background(), l, "m")
		}
		var levels []string
		for line := range strings.Lines(out.String()) {
			var rec struct{ Level string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("verbosity %d: not JSON: %q", v, line)
			}
			levels = append(levels, rec.Level)
		}
		if strings.Join(levels, " ") != strings.Join(want, " ") {
			t.Errorf("verbosity %d logged %v, want %v", v, levels, want)
		}
	}
}
