// Command stripesql serves a Stripe account as a MySQL database.
//
// Usage:
//
//	stripesql [serve] [flags]          serve MySQL (the default command)
//	stripesql emulator [--listen addr] run the demo Stripe emulator over HTTP
//	stripesql bench [--quick]          benchmark against a seeded emulator
//	stripesql version                  print the version
//
// Without a Stripe API key, serve uses the embedded demo emulator, so
// "stripesql" alone gives a database to try. Run "stripesql -h" for the
// flags and the environment variables they fall back to.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "stripesql:", err)
		os.Exit(1)
	}
}
