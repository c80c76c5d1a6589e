package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// envOf returns an env function over vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigDefaults(t *testing.T) {
	c, err := parseServeConfig(nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := serveConfig{
		listen: "127.0.0.1:3306", apiBase: "https://api.stripe.com", user: "root",
		logLevel: slog.LevelInfo, database: "stripe",
	}
	if c != want {
		t.Errorf("defaults = %+v\nwant       %+v", c, want)
	}
}

func TestConfigEnvFallbackAndFlagPrecedence(t *testing.T) {
	env := envOf(map[string]string{
		"STRIPESQL_LISTEN":    "127.0.0.1:4000",
		"STRIPE_API_KEY":      "sk_test_env",
		"STRIPE_API_BASE":     "http://env.example",
		"STRIPE_ACCOUNT":      "acct_env",
		"STRIPESQL_RATE":      "7.5",
		"STRIPESQL_USER":      "envuser",
		"STRIPESQL_PASSWORD":  "envpw",
		"STRIPESQL_DEMO":      "true",
		"STRIPESQL_READ_ONLY": "1",
		"STRIPESQL_LOG_LEVEL": "warn",
		"STRIPESQL_DATABASE":  "envdb",
	})
	fromEnv := serveConfig{
		listen: "127.0.0.1:4000", apiKey: "sk_test_env", apiBase: "http://env.example", account: "acct_env",
		rate: 7.5, user: "envuser", password: "envpw", demo: true, readOnly: true,
		logLevel: slog.LevelWarn, database: "envdb",
	}
	c, err := parseServeConfig(nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c != fromEnv {
		t.Errorf("from env = %+v\nwant       %+v", c, fromEnv)
	}

	c, err = parseServeConfig([]string{
		"--listen", "127.0.0.1:0", "--api-key", "sk_live_flag", "--api-base", "http://flag.example",
		"--account", "acct_flag", "--rate", "3", "--user", "flaguser", "--password", "flagpw",
		"--demo=false", "--read-only=false", "--log-level", "debug", "--database", "flagdb",
	}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	fromFlags := serveConfig{
		listen: "127.0.0.1:0", apiKey: "sk_live_flag", apiBase: "http://flag.example", account: "acct_flag",
		rate: 3, user: "flaguser", password: "flagpw", logLevel: slog.LevelDebug, database: "flagdb",
	}
	if c != fromFlags {
		t.Errorf("flags over env = %+v\nwant             %+v", c, fromFlags)
	}
}

func TestConfigRejectsBadValuesWithoutEchoingThem(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad rate flag", []string{"--rate", "fast"}, nil, "invalid value"},
		{"bad rate env", nil, map[string]string{"STRIPESQL_RATE": "fast"}, "invalid value in STRIPESQL_RATE for --rate"},
		{"bad level", []string{"--log-level", "loud"}, nil, "invalid value"},
		{"bad demo env", nil, map[string]string{"STRIPESQL_DEMO": "sk_live_oops"}, "invalid value in STRIPESQL_DEMO"},
		{"extra argument", []string{"now"}, nil, "unexpected arguments: now"},
		{"empty database", []string{"--database", ""}, nil, "--database must not be empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseServeConfig(c.args, envOf(c.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "sk_live_oops") {
				t.Errorf("error echoes the value: %v", err)
			}
		})
	}
}

func TestHelpNamesEnvVarsButNoSecrets(t *testing.T) {
	var out bytes.Buffer
	env := envOf(map[string]string{"STRIPE_API_KEY": "sk_live_secret", "STRIPESQL_PASSWORD": "pw_secret"})
	_, err := parseServeConfig([]string{"-h"}, env, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: got %v, want flag.ErrHelp", err)
	}
	help := out.String()
	for _, fb := range envFallbacks {
		if !strings.Contains(help, "-"+fb.flag) || !strings.Contains(help, fb.env) {
			t.Errorf("help lacks --%s or %s:\n%s", fb.flag, fb.env, help)
		}
	}
	for _, secret := range []string{"sk_live_secret", "pw_secret"} {
		if strings.Contains(help, secret) {
			t.Errorf("help shows %q", secret)
		}
	}
}
