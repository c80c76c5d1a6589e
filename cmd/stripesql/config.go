package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// defaultAPIBase is Stripe's API.
const defaultAPIBase = "https://api.stripe.com"

// serveConfig is the configuration of "stripesql serve".
type serveConfig struct {
	listen   string
	apiKey   string
	apiBase  string
	account  string
	rate     float64
	user     string
	password string
	demo     bool
	readOnly bool
	logLevel slog.Level
	database string
}

// envFallbacks names the environment variable each flag falls back to.
// Fallbacks are applied after parsing, to the flags not given, so a flag
// always wins, and so that -h never prints a secret taken from the
// environment as a default.
var envFallbacks = []struct{ flag, env string }{
	{"listen", "STRIPESQL_LISTEN"},
	{"api-key", "STRIPE_API_KEY"},
	{"api-base", "STRIPE_API_BASE"},
	{"account", "STRIPE_ACCOUNT"},
	{"rate", "STRIPESQL_RATE"},
	{"user", "STRIPESQL_USER"},
	{"password", "STRIPESQL_PASSWORD"},
	{"demo", "STRIPESQL_DEMO"},
	{"read-only", "STRIPESQL_READ_ONLY"},
	{"log-level", "STRIPESQL_LOG_LEVEL"},
	{"database", "STRIPESQL_DATABASE"},
}

// parseServeConfig reads the serve flags from args, falling back to env.
// It returns flag.ErrHelp, after printing usage to out, for -h.
func parseServeConfig(args []string, env func(string) string, out io.Writer) (serveConfig, error) {
	c := serveConfig{logLevel: slog.LevelInfo}
	fs := flag.NewFlagSet("stripesql serve", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:3306", "MySQL `address` to listen on; port 0 picks a free port (env STRIPESQL_LISTEN)")
	fs.StringVar(&c.apiKey, "api-key", "", "Stripe secret or restricted `key`; without one the embedded demo emulator is served (env STRIPE_API_KEY)")
	fs.StringVar(&c.apiBase, "api-base", defaultAPIBase, "Stripe API base `URL` (env STRIPE_API_BASE)")
	fs.StringVar(&c.account, "account", "", "Connect account `id` to act on, sent as Stripe-Account (env STRIPE_ACCOUNT)")
	fs.Float64Var(&c.rate, "rate", 0, "Stripe requests per second; 0 means Stripe's limit for the key's mode, 25 test or 100 live; negative means unlimited (env STRIPESQL_RATE)")
	fs.StringVar(&c.user, "user", "root", "MySQL `user` name (env STRIPESQL_USER)")
	fs.StringVar(&c.password, "password", "", "MySQL password; empty means none (env STRIPESQL_PASSWORD, preferred: flags show in ps)")
	fs.BoolVar(&c.demo, "demo", false, "serve the embedded demo emulator even if a key is set (env STRIPESQL_DEMO)")
	fs.BoolVar(&c.readOnly, "read-only", false, "refuse INSERT, UPDATE, DELETE and writing procedures (env STRIPESQL_READ_ONLY)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error (env STRIPESQL_LOG_LEVEL)")
	fs.StringVar(&c.database, "database", "stripe", "database `name` clients connect to (env STRIPESQL_DATABASE)")
	fs.Usage = func() {
		fmt.Fprint(out, `Usage:
  stripesql [serve] [flags]           serve a Stripe account as a MySQL database
  stripesql emulator [-listen addr]   serve the demo Stripe emulator over HTTP
  stripesql version                   print the version

Flags of serve:
`)
		fs.PrintDefaults()
	}

	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, fb := range envFallbacks {
		v := env(fb.env)
		if given[fb.flag] || v == "" {
			continue
		}
		if err := fs.Set(fb.flag, v); err != nil {
			// The value may be a secret; name the variable, not the value.
			return c, fmt.Errorf("invalid value in %s for --%s", fb.env, fb.flag)
		}
	}
	if c.database == "" {
		return c, errors.New("--database must not be empty")
	}
	return c, nil
}
