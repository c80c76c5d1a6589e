package main

import "runtime/debug"

// serverMemoryBytes is the Go runtime's soft memory limit for the server
// unless GOMEMLIMIT sets one (a mirror raises it: see mirrorMemoryBytes).
//
// A streamed SELECT holds little (the pages in flight and the engine's row
// buffers, 10–20 MB) but allocates a page's objects and each value's wire
// bytes per row, and with the runtime's default pacing alone the heap grew
// to twice its live set and more before each collection: stripesql bench
// --scenarios stream (1,000,000 rows) peaked 44–90 MB above idle RSS across
// runs, against the 64 MB it is held to. The runtime itself holds about 22
// MB at idle (go_memstats_sys_bytes), the binary's pages most of the rest.
// Since a range scan holds only two read pages for its consumer, the
// stream peaks 33–41 MB without the limit (GOMEMLIMIT=1TiB, 4 runs at
// 22:13–22:23 UTC) and 33–48 MB with it: the limit is now the safeguard
// for a query whose garbage outruns the default pacing, not what holds
// the stream under 64 MB.
//
// Of the ways to collect sooner, this one costs nothing below the limit:
// GOGC 50 held the stream to 19–32 MB above idle but slowed every
// CPU-bound query (the SQL tax, 100,000 rows at zero latency: 3.5 s
// against 2.3–2.6 s, tax 1.07–1.10), while GOGC 100 with this limit gave
// 30–31 MB (200,000 rows, 2 runs) and a tax of 0.74 (2 runs, peak 48–49
// MB above idle) at 18:57–19:03 UTC. It is soft: a query whose live data
// passes it still gets the memory, and the collector, which then runs
// more often, is held to about half the CPU by the runtime.
const serverMemoryBytes = 64 << 20

// setServerMemoryLimit sets serverMemoryBytes unless GOMEMLIMIT is set in
// the environment, and reports whether it did.
func setServerMemoryLimit(getenv func(string) string) bool {
	if getenv("GOMEMLIMIT") != "" {
		return false
	}
	debug.SetMemoryLimit(serverMemoryBytes)
	return true
}
