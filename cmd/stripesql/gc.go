package main

import "runtime/debug"

// serverGCPercent is the garbage collector's GOGC for the server unless the
// environment's GOGC chooses one. A streamed SELECT holds little (the
// pages in flight and the engine's row buffers, 10–20 MB), but allocates a
// page's objects and each value's wire bytes per row, so the heap peaks at
// (1 + GOGC/100) times that live set: with the runtime's default of 100,
// stripesql bench --scenarios stream (1,000,000 rows) peaked 44–90 MB above
// idle RSS across runs, against the 64 MB it is held to. At 50 it peaked
// 20–32 MB above idle (3 runs of 200,000 rows and one of 1,000,000, 18:05–
// 18:15 UTC), for about 10% more CPU on that CPU-bound stream (72.5 s
// against 65.7 s); scans at the rate limit wait on Stripe, not the CPU.
const serverGCPercent = 50

// setServerGCPercent sets serverGCPercent unless GOGC is set in the
// environment, and reports whether it did.
func setServerGCPercent(getenv func(string) string) bool {
	if getenv("GOGC") != "" {
		return false
	}
	debug.SetGCPercent(serverGCPercent)
	return true
}
