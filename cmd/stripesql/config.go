package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/stripesql/stripesql/stripeapi"
)

// defaultAPIBase is Stripe's API.
const defaultAPIBase = "https://api.stripe.com"

// defaultMaxCalls caps the Stripe calls of one query unless the server is
// configured otherwise. 1,000 calls read 100,000 objects of one table (100
// per page), more than most accounts hold, and take at most 40 s at the
// test-mode rate of 25 requests/s (10 s live): a query that needs more is
// almost always a mistake (Id IN of 10,000 ids, a lookup per row of a big
// join), and without a cap one such query holds the account's rate limit
// for minutes.
const defaultMaxCalls = 1000

// serveConfig is the configuration of "stripesql serve" (and of "stripesql
// config", which prints it).
type serveConfig struct {
	configFile string

	// MySQL server.
	listen       string
	database     string
	user         string
	password     string
	passwordFile string
	readOnly     bool
	// allowLiveWrites lets writes through with a live-mode key.
	allowLiveWrites bool
	// maxCalls is the default of SET stripe_max_calls: 0 means no cap.
	maxCalls int64

	// Security.
	tlsCert, tlsKey        string
	requireSecureTransport bool
	insecure               bool
	usersFile              string
	maxExecutionTime       int64 // ms

	// Writes.
	writeLog         string        // the durable record of writes; "" for none
	writeRetryWindow time.Duration // 0: the usual retries only

	// Stripe.
	apiKey     string
	apiKeyFile string
	apiBase    string
	account    string
	demo       bool

	// Proxy.
	proxy             string
	proxyUser         string
	proxyPassword     string
	proxyPasswordFile string
	proxyAuth         string
	proxySSL          string

	// metricsListen is the HTTP address of /metrics; "" serves none.
	metricsListen string

	// Logging.
	verbosity int
	logFormat string

	// Throttling.
	rate           float64
	searchRate     float64
	endpointRate   float64
	burst          int
	maxConcurrency int

	// Mirror (mirror.go): the tables kept in a local store.
	mirror         string // "", a comma-separated list of tables, or "all"
	mirrorDir      string
	mirrorRate     float64
	mirrorInterval time.Duration
	// mirrorRetention is how long Stripe keeps events (30 days); only a
	// test against an emulator with a shorter retention changes it.
	mirrorRetention time.Duration

	// sources tells where each setting's value came from, by flag name.
	sources map[string]source
	// flags holds the values, for printing them ("stripesql config").
	flags *flag.FlagSet
}

// source is where a setting's value came from, in rising precedence.
type source struct {
	kind   sourceKind
	detail string // the file's path, the variable's name or the flag
}

type sourceKind int

const (
	fromDefault sourceKind = iota
	fromFile
	fromEnv
	fromFlag
)

func (s source) String() string {
	switch s.kind {
	case fromFile:
		return "file " + s.detail
	case fromEnv:
		return "env " + s.detail
	case fromFlag:
		return "flag " + s.detail
	}
	return "default"
}

// setting describes one flag: the environment variable and config file
// key it can also come from, and whether its value is a secret.
type setting struct {
	name   string // the flag name; the file key is fileKey(name)
	env    string
	group  string // heading in --help
	secret bool   // never printed: "[redacted]" in "config", no default shown
	noFile bool   // not read from the config file (--config itself)
}

// fileKey is the config file key of a flag: api-key is api_key.
func fileKey(flagName string) string { return strings.ReplaceAll(flagName, "-", "_") }

// settings lists every setting, in the order of --help and "config".
var settings = []setting{
	{name: "config", env: "STRIPESQL_CONFIG", group: "Configuration", noFile: true},

	{name: "listen", env: "STRIPESQL_LISTEN", group: "MySQL server"},
	{name: "database", env: "STRIPESQL_DATABASE", group: "MySQL server"},
	{name: "user", env: "STRIPESQL_USER", group: "MySQL server"},
	{name: "password", env: "STRIPESQL_PASSWORD", group: "MySQL server", secret: true},
	{name: "password-file", env: "STRIPESQL_PASSWORD_FILE", group: "MySQL server"},
	{name: "read-only", env: "STRIPESQL_READ_ONLY", group: "MySQL server"},
	{name: "allow-live-writes", env: "STRIPESQL_ALLOW_LIVE_WRITES", group: "MySQL server"},

	{name: "tls-cert", env: "STRIPESQL_TLS_CERT", group: "Security"},
	{name: "tls-key", env: "STRIPESQL_TLS_KEY", group: "Security"},
	{name: "require-secure-transport", env: "STRIPESQL_REQUIRE_SECURE_TRANSPORT", group: "Security"},
	{name: "insecure", env: "STRIPESQL_INSECURE", group: "Security"},
	{name: "users-file", env: "STRIPESQL_USERS_FILE", group: "Security"},
	{name: "max-execution-time", env: "STRIPESQL_MAX_EXECUTION_TIME", group: "Security"},

	{name: "api-key", env: "STRIPE_API_KEY", group: "Stripe", secret: true},
	{name: "api-key-file", env: "STRIPESQL_API_KEY_FILE", group: "Stripe"},
	{name: "account", env: "STRIPE_ACCOUNT", group: "Stripe"},
	{name: "api-base", env: "STRIPE_API_BASE", group: "Stripe"},
	{name: "demo", env: "STRIPESQL_DEMO", group: "Stripe"},

	{name: "proxy", env: "STRIPESQL_PROXY", group: "Proxy"},
	{name: "proxy-user", env: "STRIPESQL_PROXY_USER", group: "Proxy"},
	{name: "proxy-password", env: "STRIPESQL_PROXY_PASSWORD", group: "Proxy", secret: true},
	{name: "proxy-password-file", env: "STRIPESQL_PROXY_PASSWORD_FILE", group: "Proxy"},
	{name: "proxy-auth", env: "STRIPESQL_PROXY_AUTH", group: "Proxy"},
	{name: "proxy-ssl", env: "STRIPESQL_PROXY_SSL", group: "Proxy"},

	{name: "verbosity", env: "STRIPESQL_VERBOSITY", group: "Logging"},
	{name: "log-format", env: "STRIPESQL_LOG_FORMAT", group: "Logging"},
	{name: "metrics-listen", env: "STRIPESQL_METRICS_LISTEN", group: "Logging"},

	{name: "rate", env: "STRIPESQL_RATE", group: "Throttling"},
	{name: "search-rate", env: "STRIPESQL_SEARCH_RATE", group: "Throttling"},
	{name: "endpoint-rate", env: "STRIPESQL_ENDPOINT_RATE", group: "Throttling"},
	{name: "burst", env: "STRIPESQL_BURST", group: "Throttling"},
	{name: "max-concurrency", env: "STRIPESQL_MAX_CONCURRENCY", group: "Throttling"},
	{name: "max-calls", env: "STRIPESQL_MAX_CALLS", group: "Throttling"},

	{name: "write-log", env: "STRIPESQL_WRITE_LOG", group: "Writes"},
	{name: "write-retry-window", env: "STRIPESQL_WRITE_RETRY_WINDOW", group: "Writes"},

	{name: "mirror", env: "STRIPESQL_MIRROR", group: "Mirror"},
	{name: "mirror-dir", env: "STRIPESQL_MIRROR_DIR", group: "Mirror"},
	{name: "mirror-rate", env: "STRIPESQL_MIRROR_RATE", group: "Mirror"},
	{name: "mirror-interval", env: "STRIPESQL_MIRROR_INTERVAL", group: "Mirror"},
	{name: "mirror-retention", env: "STRIPESQL_MIRROR_RETENTION", group: "Mirror"},
}

// secretFiles pairs each secret with the setting naming a file to read it
// from; the two are one setting given two ways.
var secretFiles = []struct{ value, file string }{
	{"api-key", "api-key-file"},
	{"password", "password-file"},
	{"proxy-password", "proxy-password-file"},
}

// newFlagSet declares the flags of serve and config on a FlagSet that
// writes to out and stores into c. Defaults live here and only here.
func newFlagSet(name string, c *serveConfig, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.configFile, "config", "", "TOML `file` of settings; keys are the flag names with _ for -, e.g. api_key_file = \"/run/secrets/stripe\"")

	fs.StringVar(&c.listen, "listen", "127.0.0.1:3306", "MySQL `address` to listen on; port 0 picks a free port")
	fs.StringVar(&c.database, "database", "stripe", "database `name` clients connect to")
	fs.StringVar(&c.user, "user", "root", "MySQL `user` name")
	fs.StringVar(&c.password, "password", "", "MySQL `password`; empty means none (prefer the variable or --password-file: flags show in ps)")
	fs.StringVar(&c.passwordFile, "password-file", "", "read the MySQL password from `file` (trailing newline ignored)")
	fs.BoolVar(&c.readOnly, "read-only", false, "refuse INSERT, UPDATE, DELETE and writing procedures")
	fs.BoolVar(&c.allowLiveWrites, "allow-live-writes", false, "allow INSERT, UPDATE, DELETE and writing procedures with a live-mode key (sk_live_, rk_live_)")

	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM `file` of the server's TLS certificate (chain); reloaded with --tls-key on SIGHUP. Without it a self-signed one is generated when TLS is needed")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM `file` of the TLS certificate's private key")
	fs.BoolVar(&c.requireSecureTransport, "require-secure-transport", false, "refuse clients that do not use TLS; always on off loopback unless --insecure")
	fs.BoolVar(&c.insecure, "insecure", false, "allow listening off loopback without a password and with plaintext clients (logs a warning at every start)")
	fs.StringVar(&c.usersFile, "users-file", "", "`file` keeping the accounts and grants of CREATE USER and GRANT across restarts (created 0600); empty keeps them in memory")
	fs.Int64Var(&c.maxExecutionTime, "max-execution-time", 0, "global default of max_execution_time in `ms`: SELECTs running longer are cancelled with their Stripe requests; 0 means no limit")

	fs.StringVar(&c.apiKey, "api-key", "", "Stripe secret (sk_) or restricted (rk_) `key`; the mode (test or live) follows from it; without a key the embedded demo emulator is served")
	fs.StringVar(&c.apiKeyFile, "api-key-file", "", "read the Stripe API key from `file`, e.g. a mounted secret (trailing newline ignored)")
	fs.StringVar(&c.account, "account", "", "Connect account `id` (acct_…) to act on, sent as Stripe-Account on every request; the default of SET stripe_account")
	fs.StringVar(&c.apiBase, "api-base", defaultAPIBase, "Stripe API base `URL`, e.g. a local stripe-mock or stripesql emulator")
	fs.BoolVar(&c.demo, "demo", false, "serve the embedded demo emulator even if a key is set")

	fs.StringVar(&c.proxy, "proxy", "", "HTTP(S) proxy `URL` (http://host:port); empty uses HTTPS_PROXY, HTTP_PROXY and NO_PROXY")
	fs.StringVar(&c.proxyUser, "proxy-user", "", "proxy `user` name; empty uses the proxy URL's")
	fs.StringVar(&c.proxyPassword, "proxy-password", "", "proxy `password`")
	fs.StringVar(&c.proxyPasswordFile, "proxy-password-file", "", "read the proxy password from `file` (trailing newline ignored)")
	fs.StringVar(&c.proxyAuth, "proxy-auth", "basic", "proxy authentication `scheme`: basic or digest")
	fs.StringVar(&c.proxySSL, "proxy-ssl", "auto", "proxy SSL `mode`: auto (CONNECT tunnel for HTTPS targets, forwarding for HTTP ones), always (TLS to the proxy), never (no TLS to the proxy) or tunnel (CONNECT for every target)")

	fs.IntVar(&c.verbosity, "verbosity", 3, "log `level` 1-5: 1 errors, 2 warnings, 3 info, 4 debug, 5 every Stripe request and response with headers and bodies (secrets redacted)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&c.metricsListen, "metrics-listen", "", "serve Prometheus metrics at http://`address`/metrics (Stripe requests, retries, throttling, queries, rows, writes); empty serves none")

	fs.Float64Var(&c.rate, "rate", 0, "Stripe `requests/s`; 0 means Stripe's limit for the key's mode, 25 test or 100 live; negative means unlimited")
	fs.Float64Var(&c.searchRate, "search-rate", 0, "Stripe Search `requests/s`, within --rate; 0 means Stripe's search limit, 20; negative means unlimited")
	fs.Float64Var(&c.endpointRate, "endpoint-rate", 0, "Stripe `requests/s` per endpoint (e.g. GET /v1/customers), within --rate; 0 means Stripe's per-endpoint default, 25 (unlimited if --rate is); negative means unlimited")
	fs.IntVar(&c.burst, "burst", 5, "`requests` that may go out back to back before --rate applies (an endpoint's requests are paced from the first, see --endpoint-rate)")
	fs.IntVar(&c.maxConcurrency, "max-concurrency", 0, "most Stripe `requests` in flight at once; 0 means no bound")
	fs.Int64Var(&c.maxCalls, "max-calls", defaultMaxCalls, "per-query budget of Stripe `calls`: a session may lower it (SET stripe_max_calls), only an admin may raise it; 0 means no cap")

	fs.StringVar(&c.writeLog, "write-log", "", "append every Stripe write to `file` (JSON lines, synced before each request and after its answer), shown after a restart in StripeWrites; empty keeps the record in memory only")
	fs.DurationVar(&c.writeRetryWindow, "write-retry-window", time.Minute, "how long a write that may have executed is retried (same idempotency key) before its outcome is reported unknown; 0 means the usual 5 attempts")

	fs.StringVar(&c.mirror, "mirror", "", "`tables` to keep in a local mirror, comma-separated (Customers,Invoices), or all for every table whose changes Stripe reports as events; reads of a ready table are answered locally (SET stripe_source); empty mirrors nothing")
	fs.StringVar(&c.mirrorDir, "mirror-dir", "", "`directory` of the mirror's store; empty means stripesql/mirror/<mode>-<key hash>[-<account>] under the user's cache directory (in demo mode a temporary one, removed at exit)")
	fs.Float64Var(&c.mirrorRate, "mirror-rate", 0, "Stripe `requests/s` the mirror may spend (backfill and event polling), within --rate; 0 means a quarter of --rate")
	fs.DurationVar(&c.mirrorInterval, "mirror-interval", 2*time.Second, "how often the mirror polls Stripe's events (`duration`)")
	fs.DurationVar(&c.mirrorRetention, "mirror-retention", 30*24*time.Hour, "how long Stripe keeps events (`duration`); a mirror whose events cursor is older backfills again. Stripe's is 30 days: change it only for an emulator with a shorter retention")
	return fs
}

// parseServeConfig reads the settings from the config file, env and
// args, in rising precedence, and reads the secret files. It returns
// flag.ErrHelp, after printing the help to out, for -h.
func parseServeConfig(args []string, env func(string) string, out io.Writer) (serveConfig, error) {
	c := serveConfig{sources: make(map[string]source)}
	fs := newFlagSet("stripesql", &c, out)
	fs.Usage = func() { printHelp(out, fs) }
	c.flags = fs
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	fs.Visit(func(f *flag.Flag) { c.sources[f.Name] = source{fromFlag, "--" + f.Name} })

	// The config file's path comes from the flag or the environment.
	if _, given := c.sources["config"]; !given {
		if v := env("STRIPESQL_CONFIG"); v != "" {
			c.configFile = v
			c.sources["config"] = source{fromEnv, "STRIPESQL_CONFIG"}
		}
	}
	var file map[string]string
	if c.configFile != "" {
		var err error
		if file, err = readConfigFile(c.configFile); err != nil {
			return c, err
		}
	}

	for _, s := range settings {
		if _, given := c.sources[s.name]; given || s.noFile {
			continue
		}
		var (
			v   string
			src source
		)
		if ev := env(s.env); ev != "" {
			v, src = ev, source{fromEnv, s.env}
		} else if fv, ok := file[fileKey(s.name)]; ok {
			v, src = fv, source{fromFile, c.configFile}
		} else {
			c.sources[s.name] = source{}
			continue
		}
		if err := fs.Set(s.name, v); err != nil {
			// The value may be a secret; name where it came from, not it.
			return c, fmt.Errorf("invalid value for --%s (from %s)", s.name, src)
		}
		c.sources[s.name] = src
	}

	if err := c.readSecretFiles(); err != nil {
		return c, err
	}
	return c, c.validate()
}

// readConfigFile reads a TOML file of settings into flag values as
// strings, refusing unknown keys and values that are not scalars.
func readConfigFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, fmt.Errorf("config file %s: %s", path, tomlError(err, string(data)))
	}
	known := make(map[string]bool)
	for _, s := range settings {
		known[fileKey(s.name)] = !s.noFile
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if !known[k] {
			return nil, fmt.Errorf("config file %s: unknown setting %q (see stripesql --help)", path, k)
		}
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case int64:
			out[k] = strconv.FormatInt(v, 10)
		case float64:
			out[k] = strconv.FormatFloat(v, 'g', -1, 64)
		default:
			return nil, fmt.Errorf("config file %s: %s must be a string, number or boolean", path, k)
		}
	}
	return out, nil
}

// tomlError describes a TOML syntax error by its position, and by its
// message unless the line holds a secret, which the message might quote.
func tomlError(err error, data string) string {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return "invalid TOML"
	}
	lines := strings.Split(data, "\n")
	line := ""
	if n := pe.Position.Line; n >= 1 && n <= len(lines) {
		line = strings.TrimSpace(lines[n-1])
	}
	for _, s := range settings {
		if k := fileKey(s.name); s.secret && (strings.HasPrefix(line, k) || pe.LastKey == k) {
			return fmt.Sprintf("line %d: invalid TOML (details withheld: the line holds a secret)", pe.Position.Line)
		}
	}
	return fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)
}

// readSecretFiles resolves each secret given both as a value and as a
// file: the one from the higher-precedence source wins; two from the same
// source are an error. A file's contents lose one trailing newline.
func (c *serveConfig) readSecretFiles() error {
	for _, sf := range secretFiles {
		value, path := c.stringSetting(sf.value), c.stringSetting(sf.file)
		vs, fsrc := c.sources[sf.value], c.sources[sf.file]
		if *path == "" {
			continue
		}
		if *value != "" {
			if vs.kind == fsrc.kind {
				return fmt.Errorf("--%s (from %s) and --%s (from %s) both set: give one", sf.value, vs, sf.file, fsrc)
			}
			if vs.kind > fsrc.kind {
				continue // the value wins; the file is not read
			}
		}
		data, err := os.ReadFile(*path)
		if err != nil {
			return fmt.Errorf("--%s: %w", sf.file, err)
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
		if s == "" {
			return fmt.Errorf("--%s: %s is empty", sf.file, *path)
		}
		*value = s
		c.sources[sf.value] = source{fsrc.kind, fsrc.detail + " → " + *path}
	}
	return nil
}

// stringSetting returns the field of a string setting by flag name.
func (c *serveConfig) stringSetting(name string) *string {
	fields := map[string]*string{
		"api-key": &c.apiKey, "api-key-file": &c.apiKeyFile,
		"password": &c.password, "password-file": &c.passwordFile,
		"proxy-password": &c.proxyPassword, "proxy-password-file": &c.proxyPasswordFile,
	}
	return fields[name]
}

// validate checks values that flag parsing accepts but serve cannot use.
// Errors name the setting and where it came from; only non-secret values
// are quoted.
func (c *serveConfig) validate() error {
	bad := func(name, want string) error {
		return fmt.Errorf("invalid --%s (from %s): want %s", name, c.sources[name], want)
	}
	switch {
	case c.database == "":
		return errors.New("--database must not be empty")
	case c.verbosity < 1 || c.verbosity > 5:
		return bad("verbosity", "1 to 5")
	case c.logFormat != "text" && c.logFormat != "json":
		return bad("log-format", "text or json")
	case c.burst < 1:
		return bad("burst", "at least 1")
	case c.maxConcurrency < 0:
		return bad("max-concurrency", "0 (no bound) or more")
	case c.maxCalls < 0:
		return bad("max-calls", "0 (no cap) or more")
	case c.maxExecutionTime < 0:
		return bad("max-execution-time", "0 (no limit) or more milliseconds")
	case c.mirrorRate < 0:
		return bad("mirror-rate", "0 (a quarter of --rate) or more requests/s")
	case c.mirrorInterval <= 0:
		return bad("mirror-interval", "a positive duration such as 2s")
	case c.mirrorRetention <= 0:
		return bad("mirror-retention", "a positive duration such as 720h")
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	case strings.HasPrefix(c.apiKey, "pk_"):
		return fmt.Errorf("--api-key (from %s) is a publishable key (pk_…), which cannot use the API: give a secret (sk_…) or restricted (rk_…) key", c.sources["api-key"])
	case c.apiKey != "" && strings.ContainsFunc(c.apiKey, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return fmt.Errorf("--api-key (from %s) contains whitespace or control characters", c.sources["api-key"])
	}
	if _, err := stripeapi.ParseProxyAuth(c.proxyAuth); err != nil {
		return bad("proxy-auth", "basic or digest")
	}
	if _, err := stripeapi.ParseProxySSL(c.proxySSL); err != nil {
		return bad("proxy-ssl", "auto, always, never or tunnel")
	}
	if c.proxy != "" {
		if _, err := c.proxyURL(); err != nil {
			return err
		}
	}
	return nil
}

// proxyURL parses --proxy; nil if it is empty. Errors never show the
// URL's password.
func (c *serveConfig) proxyURL() (*url.URL, error) {
	if c.proxy == "" {
		return nil, nil
	}
	u, err := url.Parse(c.proxy)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		shown := "it"
		if err == nil {
			shown = strconv.Quote(u.Redacted())
		}
		return nil, fmt.Errorf("invalid --proxy (from %s): want http://host:port or https://host:port, not %s", c.sources["proxy"], shown)
	}
	return u, nil
}

// proxyConfig is the stripeapi proxy configuration.
func (c *serveConfig) proxyConfig() *stripeapi.ProxyConfig {
	u, _ := c.proxyURL() // validated
	auth, _ := stripeapi.ParseProxyAuth(c.proxyAuth)
	ssl, _ := stripeapi.ParseProxySSL(c.proxySSL)
	return &stripeapi.ProxyConfig{URL: u, User: c.proxyUser, Password: c.proxyPassword, Auth: auth, SSL: ssl}
}

// secrets are the values no log line may show: the API key and the two
// passwords (also one in a --proxy URL).
func (c *serveConfig) secrets() []string {
	s := []string{c.apiKey, c.password, c.proxyPassword}
	if u, err := c.proxyURL(); err == nil && u != nil {
		if pw, ok := u.User.Password(); ok {
			s = append(s, pw)
		}
	}
	return slices.DeleteFunc(s, func(v string) bool { return v == "" })
}
