package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/mirror"
	"github.com/stripesql/stripesql/stripeapi"
	"github.com/stripesql/stripesql/tables"
)

// mirrorTables resolves --mirror against the catalog: "all" is every
// mirrorable table; a list names tables (or their aliases), each of which
// must be mirrorable. The error lists what can be mirrored.
func mirrorTables(spec string, cat *catalog.Catalog) ([]*catalog.Table, error) {
	mirrorable := mirror.Mirrorable(cat)
	if strings.EqualFold(strings.TrimSpace(spec), "all") {
		return mirrorable, nil
	}
	var names []string
	for _, t := range mirrorable {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	can := "mirrorable tables: " + strings.Join(names, ", ") + " (or all)"
	var out []*catalog.Table
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		def, ok := cat.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("--mirror: no table %s; %s", name, can)
		}
		if !slices.Contains(mirrorable, def) {
			return nil, fmt.Errorf("--mirror: table %s cannot be mirrored (%s); %s", def.Name, mirror.NotMirrorable(def), can)
		}
		if !slices.Contains(out, def) {
			out = append(out, def)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--mirror: no table named; %s", can)
	}
	return out, nil
}

// defaultMirrorDir is where the mirror's store lives without --mirror-dir:
// stripesql/mirror/<who> under the user's cache directory, <who> being the
// Connect account, or the key's mode and a hash of the key (two accounts'
// test keys must not share a store; the hash does not reveal the key).
func defaultMirrorDir(cfg serveConfig, mode stripeapi.Mode) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("--mirror-dir not set and no user cache directory: %w", err)
	}
	sum := sha256.Sum256([]byte(cfg.apiKey))
	who := mode.String() + "-" + hex.EncodeToString(sum[:6])
	if cfg.account != "" {
		who += "-" + cfg.account
	}
	return filepath.Join(base, "stripesql", "mirror", who), nil
}

// openMirror opens the mirror --mirror asks for and makes db read from
// it. It returns a close function (a no-op without --mirror). In demo mode
// the emulator starts afresh on every run, so the store does too: a
// temporary directory, removed on close, unless --mirror-dir names one.
func openMirror(ctx context.Context, cfg serveConfig, demo bool, cat *catalog.Catalog, client *stripeapi.Client, db *tables.Database, log *slog.Logger) (func(), error) {
	if strings.TrimSpace(cfg.mirror) == "" {
		return func() {}, nil
	}
	defs, err := mirrorTables(cfg.mirror, cat)
	if err != nil {
		return nil, err
	}
	dir, cleanup := cfg.mirrorDir, func() {}
	switch {
	case dir != "":
	case demo:
		if dir, err = os.MkdirTemp("", "stripesql-mirror-demo-"); err != nil {
			return nil, fmt.Errorf("mirror: %w", err)
		}
		cleanup = func() { os.RemoveAll(dir) }
	default:
		if dir, err = defaultMirrorDir(cfg, client.Mode()); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		cleanup()
		return nil, fmt.Errorf("mirror: %w", err)
	}
	rate := cfg.mirrorRate
	if rate == 0 {
		rate = client.RateLimit() / 4 // 0 (no share of its own) if --rate is unlimited
	}
	var names []string
	for _, d := range defs {
		names = append(names, d.Name)
	}
	m, err := mirror.Open(ctx, mirror.Config{
		Dir:       dir,
		Tables:    defs,
		Catalog:   cat,
		Client:    client,
		Rate:      rate,
		Interval:  cfg.mirrorInterval,
		Retention: cfg.mirrorRetention,
		ReadAll:   db.ReadAll,
		Logger:    log,
	})
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("mirror: %w", err)
	}
	db.SetMirror(m)
	if limit, set := mirrorMemoryLimit(os.Getenv); set {
		log.Info("mirror: Go soft memory limit set (GOMEMLIMIT overrides it)", "bytes", limit)
	}
	log.Info("mirroring", "tables", strings.Join(names, ","), "dir", dir, "rate", rate, "interval", cfg.mirrorInterval)
	wctx, stop := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchMirror(wctx, m, log, time.Second)
	}()
	return func() {
		stop()
		<-watched
		if err := m.Close(); err != nil {
			log.Warn("mirror: close", "err", err)
		}
		cleanup()
	}, nil
}

// watchMirror logs every change of a mirrored table's state (backfilling,
// ready, failed) until ctx ends.
func watchMirror(ctx context.Context, m *mirror.Mirror, log *slog.Logger, every time.Duration) {
	last := map[string]string{}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		for _, s := range m.Status() {
			if last[s.Table] == s.State {
				continue
			}
			level := slog.LevelInfo
			if strings.HasPrefix(s.State, "failed") {
				level = slog.LevelError
			}
			log.Log(ctx, level, "mirror: "+s.Table+" "+s.State, "table", s.Table, "was", last[s.Table],
				"objects", s.Objects, "backfilled", s.Backfilled, "lag", s.Lag.Round(time.Millisecond).String())
			last[s.Table] = s.State
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// mirrorMemoryBytes is the Go runtime's soft memory limit while a mirror
// runs, unless GOMEMLIMIT sets one. A backfill streams a whole table
// through the heap (range scans' pages in flight, Pebble's memtables and
// compactions); with the default GOGC the heap doubled past each
// collection's live set and a 1,000,000-object backfill peaked at 293 MB
// of RSS. With this limit the collector works harder instead: the same
// backfill peaked at 120 MB with 160 MiB (stripesql bench --scenarios
// mirror, 13:38 UTC run) and at 222 MB with 192 MiB (13:45 UTC), too
// close to the 256 MB the mirror is held to. It is soft: a query that
// needs more still gets it.
const mirrorMemoryBytes = 160 << 20

// mirrorMemoryLimit sets the soft memory limit for a mirror unless the
// environment's GOMEMLIMIT chose one, and reports the limit it set. It
// replaces the server's own (serverMemoryBytes), which would have the
// collector run without pause through a backfill.
func mirrorMemoryLimit(getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	debug.SetMemoryLimit(mirrorMemoryBytes)
	return mirrorMemoryBytes, true
}
