package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/stripesql/stripesql/emulator"
)

// runEmulator serves the demo emulator over HTTP, for pointing other
// Stripe clients, or a second stripesql, at it; flags add seeded objects
// at scale, latency and Stripe's rate limits.
func runEmulator(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("stripesql emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:12111", "HTTP `address` to listen on; port 0 picks a free port")
	demo := fs.Bool("demo", true, "start from the demo account; false starts empty")
	var seed emulator.Seeding
	fs.IntVar(&seed.Customers, "seed-customers", 0, "add `n` customers whose created times spread over the last year")
	fs.IntVar(&seed.Charges, "seed-charges", 0, "add `n` charges on the seeded customers")
	fs.IntVar(&seed.Invoices, "seed-invoices", 0, "add `n` paid invoices of the seeded customers")
	fs.Uint64Var(&seed.Seed, "seed", 1, "`seed` of the seeded ids and values")
	var lim emulator.Limits
	fs.DurationVar(&lim.Latency, "latency", 0, "`delay` before every answer, e.g. 100ms")
	fs.Float64Var(&lim.GlobalRate, "rate", 0, "answer 429 (global-rate) above `requests/s` for the account; 0 is unlimited")
	fs.Float64Var(&lim.EndpointRate, "endpoint-rate", 0, "answer 429 (endpoint-rate) above `requests/s` for one endpoint (method and path template); 0 is unlimited")
	fs.IntVar(&lim.Burst, "burst", 0, "`requests` a rate limit lets through at once; 0 is a tenth of a second's worth, at least 5")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	e := emulator.New()
	if *demo {
		e = emulator.NewDemo()
	}
	if _, err := e.Seed(seed); err != nil {
		return err
	}
	e.SetLimits(lim)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	base := "http://" + ln.Addr().String()
	log.Info("serving the Stripe emulator", "api_base", base,
		"try", "stripesql --api-base "+base+" --api-key sk_test_any",
		"demo", *demo, "seeded", fmt.Sprintf("%d customers, %d charges, %d invoices", seed.Customers, seed.Charges, seed.Invoices),
		"latency", lim.Latency, "rate", lim.GlobalRate, "endpoint_rate", lim.EndpointRate)
	if err := emulator.Serve(ctx, ln, e); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	log.Info("stopped")
	return nil
}
