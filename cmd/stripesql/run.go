package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/stripesql/stripesql/aggregates"
	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/metrics"
	"github.com/stripesql/stripesql/procedures"
	"github.com/stripesql/stripesql/server"
	"github.com/stripesql/stripesql/stripeapi"
	"github.com/stripesql/stripesql/tables"
)

// Demo mode talks to the in-process emulator through handlerTransport, so
// the base URL is never resolved; it only has to be a valid http URL. The
// emulator accepts any key.
const (
	demoAPIBase = "http://demo-emulator.invalid"
	demoAPIKey  = "sk_test_demo"
)

// run is the whole program short of process concerns (os.Args, the
// environment, signals, exit status), so tests can drive it in-process.
// It returns when ctx is cancelled or the command fails.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, env, stdout, stderr)
	case "config":
		cfg, err := parseServeConfig(args, env, stdout)
		if err != nil {
			return err
		}
		printConfig(stdout, cfg)
		return nil
	case "emulator":
		return runEmulator(ctx, args, stderr)
	case "bench":
		return runBench(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help":
		_, err := parseServeConfig([]string{"-h"}, env, stdout)
		return err
	}
	return fmt.Errorf("unknown command %q (want serve, config, emulator, bench, version or help)", cmd)
}

// serve runs the MySQL server until ctx is cancelled.
func serve(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServeConfig(args, env, stdout)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	memoryLimitSet := setServerMemoryLimit(env)
	if err := exposureError(cfg); err != nil {
		return err
	}

	// Listen first, so the first log line can give the real address (the
	// port may have been 0) and nothing is logged before it.
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return listenError(cfg.listen, err)
	}
	defer ln.Close() // a no-op once the server owns and closes it

	demo := cfg.demo || cfg.apiKey == ""
	api := stripeapi.Config{
		BaseURL:        cfg.apiBase,
		APIKey:         cfg.apiKey,
		Account:        cfg.account,
		Rate:           cfg.rate,
		SearchRate:     cfg.searchRate,
		EndpointRate:   cfg.endpointRate,
		Burst:          cfg.burst,
		MaxConcurrency: cfg.maxConcurrency,
		Logger:         log,
		// Zero asks for the client's default; the flag's 0 means none.
		WriteRetryWindow: cmp.Or(cfg.writeRetryWindow, -1),
	}
	connect := slog.String("connect", connectCommand(ln.Addr(), cfg))
	if demo {
		api.BaseURL, api.APIKey = demoAPIBase, demoAPIKey
		api.HTTPClient = &http.Client{Transport: handlerTransport{emulator.NewDemo()}}
		why := "no Stripe API key set"
		if cfg.demo {
			why = "--demo"
		}
		log.Log(ctx, levelStartup, "serving the embedded demo Stripe emulator ("+why+"), not a Stripe account", connect,
			"addr", ln.Addr().String(), "account", cfg.account)
		if cfg.apiBase != defaultAPIBase {
			log.Warn("--api-base is ignored in demo mode; give an API key to use it", "api_base", cfg.apiBase)
		}
		if cfg.proxy != "" {
			log.Warn("--proxy is ignored in demo mode: the emulator runs in-process")
		}
	} else {
		api.Proxy = cfg.proxyConfig()
		// The key itself is never logged; its prefix tells the mode and kind.
		log.Log(ctx, levelStartup, "serving a Stripe account", connect, "addr", ln.Addr().String(),
			"mode", stripeapi.ModeOfKey(cfg.apiKey).String(), "key", keyKind(cfg.apiKey),
			"api_base", cfg.apiBase, "account", cfg.account, "proxy", proxyText(cfg, env))
	}
	if cfg.readOnly {
		log.Info("read-only: writes are refused")
	}
	log.Debug("configuration", "config_file", cfg.configFile, "verbosity", cfg.verbosity,
		"rate", cfg.rate, "search_rate", cfg.searchRate, "endpoint_rate", cfg.endpointRate, "burst", cfg.burst, "max_concurrency", cfg.maxConcurrency)
	if memoryLimitSet {
		log.Debug("Go soft memory limit set (GOMEMLIMIT overrides it)", "bytes", serverMemoryBytes)
	}

	// GMS and vitess log through process-wide loggers; send them to ours.
	server.RouteEngineLogs(log)

	var (
		mets     *metrics.Metrics
		observer server.QueryObserver
	)
	if cfg.metricsListen != "" {
		mets = metrics.New()
		observer = mets
		api.OnRequest = mets.ObserveRequest
	}
	client, err := stripeapi.New(api)
	if err != nil {
		return fmt.Errorf("stripe client: %w", err)
	}
	if mets != nil {
		mln, err := net.Listen("tcp", cfg.metricsListen)
		if err != nil {
			return fmt.Errorf("listen for metrics: %w", err)
		}
		mets.WatchClient(client)
		log.Info("serving Prometheus metrics", "url", "http://"+mln.Addr().String()+"/metrics")
		go func() {
			if err := mets.Serve(ctx, mln); err != nil {
				log.Error("metrics server stopped", "err", err)
			}
		}()
	}
	// A Stripe account has every resource of the spec; the demo emulator
	// serves the connector contract's tables only.
	cat := catalog.All()
	if demo {
		cat = catalog.Builtin()
	}
	db := tables.NewDatabase(tables.Config{
		Name:    cfg.database,
		Catalog: cat,
		Client:  client,
		Logger:  log,
	})

	db.EnableWrites(tables.WriteOptions{AllowLiveWrites: cfg.allowLiveWrites})
	if cfg.writeLog != "" {
		if err := db.OpenWriteLog(cfg.writeLog); err != nil {
			return err
		}
		defer db.CloseWriteLog()
		log.Info("recording writes", "write_log", cfg.writeLog)
	}
	closeMirror, err := openMirror(ctx, cfg, demo, cat, client, db, log)
	if err != nil {
		return err
	}
	defer closeMirror()
	procs, err := procedures.All(db)
	if err != nil {
		return fmt.Errorf("stored procedures: %w", err)
	}
	if err := tables.SetSessionDefaults(client.Account(), cfg.maxCalls); err != nil {
		return fmt.Errorf("session defaults: %w", err)
	}

	cert, requireTLS, err := transportSecurity(ctx, cfg, log)
	if err != nil {
		return err
	}

	srv, err := server.New(server.Config{
		TLS:                    cert,
		RequireSecureTransport: requireTLS,
		UsersFile:              cfg.usersFile,
		CappedVariables:        []string{tables.MaxCallsVariable},
		MaxExecutionTime:       time.Duration(cfg.maxExecutionTime) * time.Millisecond,
		Listener:               ln,
		User:                   cfg.user,
		Password:               cfg.password,
		Database:               db,
		Procedures:             procs,
		Functions:              append(db.Functions(), aggregates.Functions()...),
		PreAnalyzerRules:       tables.PreAnalyzerRules(),
		AnalyzerRules:          tables.AnalyzerRules(),
		ReadOnly:               cfg.readOnly,
		Logger:                 log,
		Observer:               observer,
		Progress:               db.Progress,
		Ledger:                 db,
	})
	if err != nil {
		return err
	}
	err = srv.Serve(ctx)
	log.Info("stopped")
	return err
}

// proxyText describes the proxy for the start-up line, credentials
// redacted: the --proxy URL, the proxy variables that are set, or none.
func proxyText(cfg serveConfig, env func(string) string) string {
	if u, _ := cfg.proxyURL(); u != nil {
		return u.Redacted() + " (" + cfg.proxyAuth + ", ssl " + cfg.proxySSL + ")"
	}
	var set []string
	for _, v := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		if env(v) != "" {
			set = append(set, v)
		}
	}
	if len(set) == 0 {
		return "none"
	}
	return "from " + strings.Join(set, ", ") + " (" + cfg.proxyAuth + ", ssl " + cfg.proxySSL + ")"
}

// connectCommand is the mysql command line that reaches the server at
// addr. It names the password option, never the password.
func connectCommand(addr net.Addr, cfg serveConfig) string {
	host, port := "127.0.0.1", ""
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
		if !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
	}
	cmd := fmt.Sprintf("mysql -h %s -P %s -u %s", host, port, cfg.user)
	if cfg.password != "" {
		cmd += " -p"
	}
	return cmd + " " + cfg.database
}

// listenError explains a failure to listen; a busy port names the ways to
// choose another, since the usual cause is a second instance (or a MySQL
// server) on the default port.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen for MySQL clients on %s: the address is already in use (another stripesql or a MySQL server?); "+
			"choose another with --listen 127.0.0.1:3307, STRIPESQL_LISTEN=127.0.0.1:3307, or make run ARGS='--listen 127.0.0.1:3307': %w", addr, err)
	}
	return fmt.Errorf("listen for MySQL clients on %s: %w", addr, err)
}
