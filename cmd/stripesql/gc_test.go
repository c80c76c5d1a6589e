package main

import (
	"runtime/debug"
	"testing"
)

func TestServerSetsGOGCUnlessTheEnvironmentDoes(t *testing.T) {
	saved := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(saved) })

	if setServerGCPercent(func(string) string { return "200" }) {
		t.Error("GOGC given, yet the server set its own")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC in the environment the percent changed to %d", got)
	}
	if !setServerGCPercent(func(string) string { return "" }) {
		t.Error("no GOGC: the server left the runtime's default")
	}
	if got := debug.SetGCPercent(100); got != serverGCPercent {
		t.Errorf("no GOGC: percent %d, want %d", got, serverGCPercent)
	}
}
