package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// envOf returns an env function over vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// layered gives, for every setting that is not a file of secrets (tested
// on their own, as they conflict with their value setting), a distinct
// valid value for the config file, the environment and the flag.
var layered = map[string][3]string{
	"listen":          {"127.0.0.1:4001", "127.0.0.1:4002", "127.0.0.1:4003"},
	"database":        {"db_file", "db_env", "db_flag"},
	"user":            {"user_file", "user_env", "user_flag"},
	"password":        {"pw-file-SECRET", "pw-env-SECRET", "pw-flag-SECRET"},
	"read-only":       {"true", "false", "true"},
	"api-key":         {"sk_test_file_SECRET", "sk_test_env_SECRET", "sk_live_flag_SECRET"},
	"account":         {"acct_file", "acct_env", "acct_flag"},
	"api-base":        {"http://file.example", "http://env.example", "http://flag.example"},
	"demo":            {"true", "false", "true"},
	"proxy":           {"http://file.example:3128", "http://env.example:3128", "https://flag.example:3129"},
	"proxy-user":      {"pu_file", "pu_env", "pu_flag"},
	"proxy-password":  {"ppw-file-SECRET", "ppw-env-SECRET", "ppw-flag-SECRET"},
	"proxy-auth":      {"digest", "basic", "digest"},
	"proxy-ssl":       {"always", "never", "tunnel"},
	"verbosity":       {"1", "2", "5"},
	"log-format":      {"json", "text", "json"},
	"rate":            {"1.5", "2", "3"},
	"search-rate":     {"4", "5", "-1"},
	"endpoint-rate":   {"12", "13", "-1"},
	"burst":           {"6", "7", "8"},
	"max-concurrency": {"9", "10", "11"},
	"mirror":          {"Customers", "Invoices", "all"},
	"mirror-dir":      {"/tmp/m_file", "/tmp/m_env", "/tmp/m_flag"},
	"mirror-rate":     {"1", "2", "3"},
}

// layers returns the config file text, environment and flags that set
// every layered setting: through the file if level >= 0, the environment
// if level >= 1, flags if level >= 2.
func layers(t *testing.T, level int) (file string, env map[string]string, args []string) {
	t.Helper()
	var toml strings.Builder
	env = map[string]string{}
	for _, s := range settings {
		v, ok := layered[s.name]
		if !ok {
			continue
		}
		val := fmt.Sprintf("%q", v[0])
		if f := newFlagSet("x", &serveConfig{}, io.Discard).Lookup(s.name); !isString(f) {
			val = v[0] // numbers and booleans as TOML numbers and booleans
		}
		fmt.Fprintf(&toml, "%s = %s\n", fileKey(s.name), val)
		if level >= 1 {
			env[s.env] = v[1]
		}
		if level >= 2 {
			args = append(args, "--"+s.name+"="+v[2])
		}
	}
	file = filepath.Join(t.TempDir(), "stripesql.toml")
	if err := os.WriteFile(file, []byte(toml.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, env, args
}

func isString(f *flag.Flag) bool {
	_, ok := f.Value.(flag.Getter).Get().(string)
	return ok
}

func TestConfigDefaults(t *testing.T) {
	c, err := parseServeConfig(nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %s %s %q %v %q %s %q %v %q %s %s %d %s %v %v %d %d",
		c.listen, c.database, c.user, c.password, c.readOnly, c.apiKey, c.apiBase, c.account, c.demo,
		c.proxy, c.proxyAuth, c.proxySSL, c.verbosity, c.logFormat, c.rate, c.searchRate, c.burst, c.maxConcurrency)
	want := `127.0.0.1:3306 stripe root "" false "" https://api.stripe.com "" false "" basic auto 3 text 0 0 5 0`
	if got != want {
		t.Errorf("defaults = %s\nwant       %s", got, want)
	}
	for _, s := range settings {
		if src := c.sources[s.name]; src.kind != fromDefault {
			t.Errorf("%s: source %v, want default", s.name, src)
		}
	}
}

// TestConfigPrecedence sets every setting in the file, then also in the
// environment, then also by flag, and checks each level wins over the one
// below, for every setting, with the source recorded.
func TestConfigPrecedence(t *testing.T) {
	for level, kind := range []sourceKind{fromFile, fromEnv, fromFlag} {
		file, env, args := layers(t, level)
		c, err := parseServeConfig(append([]string{"--config", file}, args...), envOf(env), io.Discard)
		if err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		for name, values := range layered {
			if got := c.flags.Lookup(name).Value.String(); got != values[level] {
				t.Errorf("level %d: %s = %q, want %q", level, name, got, values[level])
			}
			if src := c.sources[name]; src.kind != kind {
				t.Errorf("level %d: %s came from %v", level, name, src)
			}
		}
	}
	// The file may also be named by the environment.
	file, _, _ := layers(t, 0)
	c, err := parseServeConfig(nil, envOf(map[string]string{"STRIPESQL_CONFIG": file}), io.Discard)
	if err != nil || c.database != "db_file" || c.sources["config"].String() != "env STRIPESQL_CONFIG" {
		t.Errorf("config from STRIPESQL_CONFIG: database %q, source %v, err %v", c.database, c.sources["config"], err)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := write("key", "rk_test_fromFILE\n")
	crlf := write("crlf", "proxy-pw\r\n")
	empty := write("empty", "\n")

	c, err := parseServeConfig([]string{"--api-key-file", key, "--proxy-password-file", crlf, "--password-file", key},
		envOf(map[string]string{"STRIPE_API_KEY": "sk_test_fromENV"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.apiKey != "rk_test_fromFILE" || c.proxyPassword != "proxy-pw" || c.password != "rk_test_fromFILE" {
		t.Errorf("key %q, proxy password %q, password %q", c.apiKey, c.proxyPassword, c.password)
	}
	if got := c.sources["api-key"].String(); got != "flag --api-key-file → "+key {
		t.Errorf("api-key source = %q", got)
	}

	// A value from a higher source wins over a file from a lower one, and
	// the file is then not even read.
	c, err = parseServeConfig([]string{"--api-key", "sk_test_flag"},
		envOf(map[string]string{"STRIPESQL_API_KEY_FILE": "/nonexistent"}), io.Discard)
	if err != nil || c.apiKey != "sk_test_flag" {
		t.Errorf("flag over env file: key %q, err %v", c.apiKey, err)
	}

	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--api-key", "sk_test_x", "--api-key-file", key}, nil,
			"--api-key (from flag --api-key) and --api-key-file (from flag --api-key-file) both set: give one"},
		{nil, map[string]string{"STRIPESQL_PROXY_PASSWORD": "x", "STRIPESQL_PROXY_PASSWORD_FILE": key},
			"--proxy-password (from env STRIPESQL_PROXY_PASSWORD) and --proxy-password-file (from env STRIPESQL_PROXY_PASSWORD_FILE) both set"},
		{[]string{"--api-key-file", empty}, nil, "--api-key-file: " + empty + " is empty"},
		{[]string{"--password-file", filepath.Join(dir, "missing")}, nil, "--password-file: open " + filepath.Join(dir, "missing") + ": no such file"},
	} {
		_, err := parseServeConfig(tt.args, envOf(tt.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: err = %v, want %q", tt.args, tt.env, err, tt.want)
		}
	}
}

func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, toml, want string }{
		{"unknown key", "listen = \"x\"\nlisten_on = \"y\"\n", `unknown setting "listen_on" (see stripesql --help)`},
		{"config in config", "config = \"other.toml\"\n", `unknown setting "config"`},
		{"array", "rate = [1, 2]\n", "rate must be a string, number or boolean"},
		{"bad value", "rate = \"fast\"\n", "invalid value for --rate (from file "},
		{"syntax", "listen = \n", "line 1: "},
		{"syntax on a secret line", "api_key = sk_live_oopsSECRET\n", "line 1: invalid TOML (details withheld: the line holds a secret)"},
		{"bad enum", "proxy_ssl = \"sometimes\"\n", "invalid --proxy-ssl (from file "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".toml")
			os.WriteFile(p, []byte(tt.toml), 0o600)
			_, err := parseServeConfig([]string{"--config", p}, envOf(nil), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error echoes a secret: %v", err)
			}
		})
	}
	_, err := parseServeConfig([]string{"--config", filepath.Join(dir, "none.toml")}, envOf(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "config file: open ") {
		t.Errorf("missing file: %v", err)
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
		{"bad rate env", nil, map[string]string{"STRIPESQL_RATE": "fast"}, "invalid value for --rate (from env STRIPESQL_RATE)"},
		{"bad demo env", nil, map[string]string{"STRIPESQL_DEMO": "sk_live_oops"}, "invalid value for --demo (from env STRIPESQL_DEMO)"},
		{"verbosity", []string{"--verbosity", "6"}, nil, "invalid --verbosity (from flag --verbosity): want 1 to 5"},
		{"log format", nil, map[string]string{"STRIPESQL_LOG_FORMAT": "xml"}, "invalid --log-format (from env STRIPESQL_LOG_FORMAT): want text or json"},
		{"proxy auth", []string{"--proxy-auth", "ntlm"}, nil, "invalid --proxy-auth (from flag --proxy-auth): want basic or digest"},
		{"proxy ssl", []string{"--proxy-ssl", "maybe"}, nil, "want auto, always, never or tunnel"},
		{"proxy url", []string{"--proxy", "socks5://u:sk_live_oops@h:1"}, nil, `invalid --proxy (from flag --proxy): want http://host:port or https://host:port, not "socks5://u:xxxxx@h:1"`},
		{"burst", []string{"--burst", "0"}, nil, "invalid --burst (from flag --burst): want at least 1"},
		{"concurrency", []string{"--max-concurrency", "-1"}, nil, "invalid --max-concurrency"},
		{"publishable key", nil, map[string]string{"STRIPE_API_KEY": "pk_live_oops"}, "--api-key (from env STRIPE_API_KEY) is a publishable key (pk_…)"},
		{"key with a space", nil, map[string]string{"STRIPE_API_KEY": "sk_live_oops x"}, "--api-key (from env STRIPE_API_KEY) contains whitespace"},
		{"extra argument", []string{"now"}, nil, "unexpected arguments: now"},
		{"empty database", []string{"--database", ""}, nil, "--database must not be empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseServeConfig(c.args, envOf(c.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "oops") {
				t.Errorf("error echoes the value: %v", err)
			}
		})
	}
}

// TestHelpListsEverySetting checks that -h shows each setting with its
// flag, environment variable, file key and default, and no secret taken
// from the environment.
func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	env := envOf(map[string]string{"STRIPE_API_KEY": "sk_live_secret", "STRIPESQL_PASSWORD": "pw_secret"})
	_, err := parseServeConfig([]string{"-h"}, env, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: got %v, want flag.ErrHelp", err)
	}
	checkHelp(t, out.String())
	for _, secret := range []string{"sk_live_secret", "pw_secret"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("help shows %q", secret)
		}
	}
}

// checkHelp checks a --help text against the settings table.
func checkHelp(t *testing.T, help string) {
	t.Helper()
	defs := newFlagSet("x", &serveConfig{}, io.Discard)
	for _, s := range settings {
		def := defs.Lookup(s.name).DefValue
		if def == "" {
			def = "none"
		}
		where := "env " + s.env
		if !s.noFile {
			where += ", file " + fileKey(s.name)
		}
		re := regexp.MustCompile(`(?m)^  --` + regexp.QuoteMeta(s.name) + `( \S+)?\n        \S.*\n        ` +
			regexp.QuoteMeta(where+", default "+def) + `$`)
		if !re.MatchString(help) {
			t.Errorf("help lacks --%s with %s, default %s:\n%s", s.name, where, def, help)
		}
	}
	for _, want := range []string{"stripesql config [flags]", "rising precedence", "\nProxy:\n", "\nThrottling:\n"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	// Every flag is a setting, so none escapes the table.
	defs.VisitAll(func(f *flag.Flag) {
		if !slices.ContainsFunc(settings, func(s setting) bool { return s.name == f.Name }) {
			t.Errorf("flag --%s is not in settings", f.Name)
		}
	})
}

// TestConfigCommand checks "stripesql config": each setting's value and
// source, secrets redacted, and what the values amount to.
func TestConfigCommand(t *testing.T) {
	file, env, args := layers(t, 1)
	var out bytes.Buffer
	err := run(t.Context(), append([]string{"config", "--config", file, "--rate", "12"}, args...), envOf(env), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checkConfigOutput(t, out.String(), file, 1, map[string]string{"rate": "12"})
	// The env level has a test key, no demo, and the rates set.
	for _, want := range []string{
		"\n# In effect:\n#   stripe: http://env.example, test mode, secret key\n",
		"#   rate: 12/s, search 5/s, burst 7, in flight 10\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config output lacks %q:\n%s", want, out.String())
		}
	}
}

// checkConfigOutput checks the lines of "stripesql config" for settings
// set at the given layer (see layers), and for overrides given by flag.
func checkConfigOutput(t *testing.T, out, file string, level int, flags map[string]string) {
	t.Helper()
	sources := []string{"file " + file, "env ", "flag --"}
	for _, s := range settings {
		values, ok := layered[s.name]
		if !ok {
			continue
		}
		v, src := values[level], sources[level]
		switch level {
		case 1:
			src += s.env
		case 2:
			src += s.name
		}
		if fv, ok := flags[s.name]; ok {
			v, src = fv, "flag --"+s.name
		}
		if s.secret {
			v = "[redacted]"
		}
		shown := v
		if f := newFlagSet("x", &serveConfig{}, io.Discard).Lookup(s.name); isString(f) {
			shown = fmt.Sprintf("%q", v)
		}
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(fileKey(s.name)) + ` +=\s` + regexp.QuoteMeta(shown) + ` +# ` + regexp.QuoteMeta(src) + `$`)
		if !re.MatchString(out) {
			t.Errorf("config output lacks %s = %s # %s:\n%s", fileKey(s.name), shown, src, out)
		}
	}
	for _, values := range layered {
		for _, v := range values {
			if strings.Contains(v, "SECRET") && strings.Contains(out, v) {
				t.Errorf("config output shows %q", v)
			}
		}
	}
	if !regexp.MustCompile(`(?m)^# config += "` + regexp.QuoteMeta(file) + `" +# flag --config$`).MatchString(out) {
		t.Errorf("config output lacks the config file line:\n%s", out)
	}
}

// TestREADMEListsEverySetting keeps the README's Configuration table in
// step with the settings: one row per setting with its flag, variable,
// file key and default.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Configuration\n")
	if !ok {
		t.Fatal("README has no Configuration section")
	}
	defs := newFlagSet("x", &serveConfig{}, io.Discard)
	for _, s := range settings {
		key, def := "`"+fileKey(s.name)+"`", "`"+defs.Lookup(s.name).DefValue+"`"
		if s.noFile {
			key = ""
		}
		if def == "``" {
			def = ""
		}
		row := fmt.Sprintf("| `--%s` | `%s` | %s | %s | ", s.name, s.env, key, def)
		for strings.Contains(row, "|  |") { // empty cells as the README writes them
			row = strings.ReplaceAll(row, "|  |", "| |")
		}
		if !strings.Contains(section, "\n"+row) {
			t.Errorf("README Configuration lacks the row %q", row)
		}
	}
}
