package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/stripesql/stripesql/stripeapi"
)

// printHelp writes the usage: the commands, then every setting by group
// with its flag, environment variable, file key and default.
func printHelp(out io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(out, `Usage:
  stripesql [serve] [flags]           serve a Stripe account as a MySQL database
  stripesql config [flags]            print the effective configuration (secrets redacted) and where each value came from
  stripesql emulator [--listen addr]  serve the demo Stripe emulator over HTTP (-h: seeding, latency, rate limits)
  stripesql bench [--quick]           benchmark stripesql against a seeded emulator (-h for scenarios)
  stripesql version                   print the version

Each setting is taken from, in rising precedence: its default, the --config
file (TOML, "file" key below), the environment variable, the flag.
`)
	group := ""
	for _, s := range settings {
		if s.group != group {
			group = s.group
			fmt.Fprintf(out, "\n%s:\n", group)
		}
		f := fs.Lookup(s.name)
		valueName, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(out, "  %s\n", strings.TrimSpace("--"+s.name+" "+valueName))
		fmt.Fprintf(out, "        %s\n", usage)
		where := "env " + s.env
		if !s.noFile {
			where += ", file " + fileKey(s.name)
		}
		def := f.DefValue
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(out, "        %s, default %s\n", where, def)
	}
}

// printConfig writes the effective configuration as TOML that
// "--config" accepts, secrets redacted, each line commented with where its
// value came from, followed by what the values amount to.
func printConfig(out io.Writer, c serveConfig) {
	fmt.Fprintln(out, "# stripesql effective configuration; secrets are redacted.")
	fmt.Fprintln(out, "# Each value is followed by where it came from: default, file, env or flag.")
	for _, s := range settings {
		f := c.flags.Lookup(s.name)
		var v string
		switch g := f.Value.(flag.Getter).Get().(type) {
		case string:
			if s.secret && g != "" {
				g = "[redacted]"
			}
			if u, err := c.proxyURL(); s.name == "proxy" && err == nil && u != nil {
				g = u.Redacted()
			}
			v = strconv.Quote(redactSecrets(g, c.secrets()))
		default:
			v = fmt.Sprint(g)
		}
		key := fileKey(s.name)
		if s.noFile {
			key = "# " + key // not a file setting
		}
		fmt.Fprintf(out, "%-21s = %-26s # %s\n", key, v, c.sources[s.name])
	}

	fmt.Fprintln(out, "\n# In effect:")
	if c.demo || c.apiKey == "" {
		why := "no API key"
		if c.demo {
			why = "demo"
		}
		fmt.Fprintf(out, "#   stripe: the embedded demo emulator (%s)\n", why)
		return
	}
	mode := stripeapi.ModeOfKey(c.apiKey)
	fmt.Fprintf(out, "#   stripe: %s, %s mode, %s key\n", c.apiBase, mode, keyKind(c.apiKey))
	fmt.Fprintf(out, "#   rate: %s, search %s, burst %d, in flight %s\n",
		rateText(c.rate, map[stripeapi.Mode]float64{stripeapi.ModeTest: 25, stripeapi.ModeLive: 100}[mode]),
		rateText(c.searchRate, 20), c.burst, map[bool]string{true: "unbounded", false: strconv.Itoa(c.maxConcurrency)}[c.maxConcurrency == 0])
}

// rateText describes a rate setting given its default.
func rateText(r, def float64) string {
	switch {
	case r < 0:
		return "unlimited"
	case r == 0:
		r = def
	}
	return strconv.FormatFloat(r, 'g', -1, 64) + "/s"
}

// keyKind names the kind of a Stripe key from its prefix.
func keyKind(key string) string {
	switch {
	case strings.HasPrefix(key, "sk_"):
		return "secret"
	case strings.HasPrefix(key, "rk_"):
		return "restricted"
	}
	return "unrecognised"
}
