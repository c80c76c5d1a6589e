package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/stripesql/stripesql/server"
)

// onLoopback reports whether a listen address accepts connections from
// this machine only. An address that does not parse counts as off
// loopback: the safe side.
func onLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// transportSecurity applies the rules for where the server listens and
// returns its TLS certificate (nil: no TLS) and whether plaintext clients
// are refused:
//   - off loopback, a password is required and plaintext clients are
//     refused, unless --insecure, which is warned about at every start;
//   - TLS is offered with --tls-cert (reloaded on SIGHUP until ctx ends), else with a generated self-signed
//     certificate when listening off loopback or requiring TLS. Its SHA-256
//     fingerprint is logged, for clients to check.
func transportSecurity(ctx context.Context, cfg serveConfig, log *slog.Logger) (*server.Certificate, bool, error) {
	off := !onLoopback(cfg.listen)
	if err := exposureError(cfg); err != nil {
		return nil, false, err
	}
	if cfg.insecure {
		log.Warn("--insecure: off loopback, accounts without a password and plaintext clients are allowed; anyone who can reach the port may read the traffic, and with no password use the Stripe key",
			"listen", cfg.listen)
	}
	require := cfg.requireSecureTransport || off && !cfg.insecure

	var (
		cert *server.Certificate
		err  error
	)
	switch {
	case cfg.tlsCert != "":
		if cert, err = server.LoadCertificate(cfg.tlsCert, cfg.tlsKey); err != nil {
			return nil, false, err
		}
		// Listen for SIGHUP before saying so.
		reloadOnHangup(ctx, cert, log)
		log.Info("TLS certificate loaded (SIGHUP reloads it)", "cert", cfg.tlsCert, "sha256", cert.Fingerprint(),
			"require_secure_transport", require)
	case off || require:
		if cert, err = server.SelfSigned(certHosts(cfg.listen)); err != nil {
			return nil, false, err
		}
		log.Info("TLS with a generated self-signed certificate; give --tls-cert and --tls-key for one clients can verify by a CA, or check this fingerprint",
			"sha256", cert.Fingerprint(), "require_secure_transport", require)
	}
	return cert, require, nil
}

// exposureError refuses a configuration that would let anyone who can
// reach the port in: off loopback without a password, unless --insecure.
// It is checked before listening.
func exposureError(cfg serveConfig) error {
	if !cfg.insecure && !onLoopback(cfg.listen) && cfg.password == "" {
		return fmt.Errorf("refusing to listen on %s, off loopback, without a MySQL password: set one (--password-file or STRIPESQL_PASSWORD), listen on 127.0.0.1, or pass --insecure to accept the risk", cfg.listen)
	}
	return nil
}

// certHosts are the names a generated certificate is made out to.
func certHosts(listen string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			hosts = append(hosts, h)
		}
	}
	if name, err := os.Hostname(); err == nil {
		hosts = append(hosts, name)
	}
	return hosts
}

// reloadOnHangup reloads cert from its files at every SIGHUP until ctx
// ends, so a renewed certificate is served without a restart. A failed
// reload keeps the old certificate.
func reloadOnHangup(ctx context.Context, cert *server.Certificate, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := cert.Reload(); err != nil {
					log.Error("TLS certificate reload failed; serving the previous one", "err", err)
					continue
				}
				log.Info("TLS certificate reloaded", "sha256", cert.Fingerprint())
			}
		}
	}()
}
