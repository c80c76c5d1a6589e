package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/stripesql/stripesql/internal/bench"
)

// runBench runs the benchmark (package bench); this only parses flags.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stripesql bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Bool("quick", false, "small sizes and one short latency: a run of seconds")
	scenarios := fs.String("scenarios", "", "comma-separated `names` to run, of "+strings.Join(bench.Scenarios, ", ")+"; empty runs all")
	latencies := fs.String("latency", "", "comma-separated `durations` of the Customers scans, e.g. 100ms,300ms (the first also for charges and join)")
	serverArgs := fs.String("server-args", "", "extra `flags` for the stripesql server, space-separated")
	o := bench.Defaults()
	if containsFlag(args, "quick") { // before the flags that default from it
		o = bench.Quick()
	}
	fs.IntVar(&o.Customers, "customers", o.Customers, "`rows` of the Customers scans and the SQL tax")
	fs.IntVar(&o.Charges, "charges", o.Charges, "`rows` of the monthly charges aggregate")
	fs.IntVar(&o.JoinCustomers, "join-customers", o.JoinCustomers, "customers of the join")
	fs.IntVar(&o.JoinInvoices, "join-invoices", o.JoinInvoices, "invoices of the join")
	fs.IntVar(&o.StreamRows, "stream-rows", o.StreamRows, "`rows` of the streaming scan")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "server-side global limit, `requests/s`")
	fs.Float64Var(&o.EndpointRate, "endpoint-rate", o.EndpointRate, "server-side per-endpoint limit of the second limit set, `requests/s`; 0 skips that set")
	fs.DurationVar(&o.StreamLatency, "stream-latency", o.StreamLatency, "latency of the streaming scan")
	fs.Float64Var(&o.StreamRate, "stream-rate", o.StreamRate, "server-side global limit of the streaming scan, `requests/s`; 0 for none")
	fs.IntVar(&o.Joins, "joins", o.Joins, "joins in a row of the joins scenario")
	fs.IntVar(&o.EmulatorGOGC, "emulator-gogc", o.EmulatorGOGC, "GOGC of the bench process, which runs the emulator (not of the server); 0 leaves the runtime's")
	mirror := fs.Bool("mirror", false, "run the live mirror's scenarios ("+strings.Join(bench.MirrorScenarios, ", ")+"); with --scenarios, those too")
	fs.IntVar(&o.MirrorBackfill, "mirror-backfill", o.MirrorBackfill, "`customers` the backfill scenario mirrors")
	fs.IntVar(&o.MirrorObjects, "mirror-objects", o.MirrorObjects, "`charges` the mirror scenario queries")
	fs.Float64Var(&o.MirrorBackfillRate, "mirror-backfill-rate", o.MirrorBackfillRate, "--mirror-rate of the mirror scenario's backfill (no latency, no server-side limit), `requests/s`; 0 for none")
	fs.StringVar(&o.MirrorStore, "mirror-store", o.MirrorStore, "`dir` of the mirror scenario's store, kept after the run; a store already backfilled (same --mirror-objects) is reused")
	fs.IntVar(&o.PointQueries, "point-queries", o.PointQueries, "point queries by Id of the mirror scenario")
	fs.IntVar(&o.LagChanges, "lag-changes", o.LagChanges, "changes the lag scenario makes at the emulator")
	fs.DurationVar(&o.LagInterval, "mirror-interval", o.LagInterval, "--mirror-interval of the mirror scenarios")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *scenarios != "" {
		o.Scenarios = strings.Split(*scenarios, ",")
	}
	if *mirror {
		o.Scenarios = append(o.Scenarios, bench.MirrorScenarios...)
	}
	if *latencies != "" {
		o.Latencies = nil
		for _, s := range strings.Split(*latencies, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				return fmt.Errorf("--latency: %w", err)
			}
			o.Latencies = append(o.Latencies, d)
		}
	}
	o.ServerArgs = strings.Fields(*serverArgs)
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the stripesql binary: %w", err)
	}
	o.Exe = exe

	started := time.Now()
	fmt.Fprintf(stdout, "# stripesql bench, %s, %s%s%s\n\n", started.UTC().Format("2006-01-02 15:04 MST"), versionString(), loadAverage(), emulatorGC(o.EmulatorGOGC))
	bench.Print(stdout, nil) // the header; rows follow as they complete
	bad := 0
	_, err = bench.Run(ctx, o, func(r bench.Result) {
		fmt.Fprintln(stdout, bench.Row(r))
		if !r.OK {
			bad++
		}
	})
	if err != nil {
		return err
	}
	// The run's length and the machine's load: a shared machine's figures
	// mean little without them.
	fmt.Fprintf(stdout, "\n# done in %.0f s%s\n", time.Since(started).Seconds(), loadAverage())
	if bad > 0 {
		return fmt.Errorf("%d queries: %w", bad, bench.ErrRows)
	}
	return nil
}

// emulatorGC names the emulator's GOGC in the header when the bench sets it.
func emulatorGC(gogc int) string {
	if gogc <= 0 {
		return ""
	}
	return fmt.Sprintf(", emulator GOGC %d", gogc)
}

// loadAverage is ", load average 1.20 0.80 0.50" from /proc/loadavg (1,
// 5 and 15 minutes), or "" where there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return ", load average " + strings.Join(f[:3], " ")
}

// containsFlag reports whether args set the boolean flag name.
func containsFlag(args []string, name string) bool {
	for _, a := range args {
		if a == "-"+name || a == "--"+name || a == "-"+name+"=true" || a == "--"+name+"=true" {
			return true
		}
	}
	return false
}
