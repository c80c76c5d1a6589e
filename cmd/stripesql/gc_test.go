package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestServerSetsASoftMemoryLimitUnlessGOMEMLIMITDoes(t *testing.T) {
	saved := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(saved) })

	if setServerMemoryLimit(func(string) string { return "1GiB" }) {
		t.Error("GOMEMLIMIT given, yet the server set its own limit")
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT in the environment the limit changed to %d", got)
	}
	if !setServerMemoryLimit(func(string) string { return "" }) {
		t.Error("no GOMEMLIMIT: the server set no limit")
	}
	if got := debug.SetMemoryLimit(-1); got != serverMemoryBytes {
		t.Errorf("no GOMEMLIMIT: limit %d, want %d", got, serverMemoryBytes)
	}
	// A mirror, started after, raises the server's limit to its own.
	if limit, set := mirrorMemoryLimit(func(string) string { return "" }); !set || limit != mirrorMemoryBytes {
		t.Errorf("mirror after the server's limit: set %v, limit %d; want %d", set, limit, mirrorMemoryBytes)
	}
	if got := debug.SetMemoryLimit(-1); got != mirrorMemoryBytes {
		t.Errorf("with a mirror: limit %d, want %d", got, mirrorMemoryBytes)
	}
}
