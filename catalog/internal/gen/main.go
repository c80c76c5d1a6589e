// Command gen generates the catalog's tables and action procedures from
// Stripe's OpenAPI spec, as embedded in the pinned stripe-mock module, and
// writes them as Go source to the catalog package:
//
//	zz_generated_tables.go   one table per list endpoint, and the singletons
//	zz_generated_actions.go  one procedure per action endpoint
//	zz_generated_omitted.go  the endpoints left out, each with its reason
//
// Run it with go generate ./catalog/... (see catalog/generate.go). The
// output is committed, so the stripesql binary does not carry the 8 MB
// spec; TestGeneratedFilesAreUpToDate fails when it differs from what this
// program produces. The rules are in build.go and actions.go, the few
// decisions the spec cannot make in rules.go; the hand-written layer the
// catalog applies on top is catalog/curated.go.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stripesql/stripesql/internal/stripespec"
)

const stripeMockVersion = stripespec.StripeMockVersion

func main() {
	dir := flag.String("dir", ".", "the catalog package directory to write to")
	verbose := flag.Bool("v", false, "print what was generated")
	flag.Parse()
	files, bd, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for name, data := range files {
		path := filepath.Join(*dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
	if *verbose {
		report(bd)
	}
}

// generate builds the model and renders the files, by name.
func generate() (map[string][]byte, *builder, error) {
	spec, err := stripespec.Load()
	if err != nil {
		return nil, nil, err
	}
	bd, err := build(spec)
	if err != nil {
		return nil, nil, err
	}
	files := map[string][]byte{}
	for name, render := range map[string]func(*builder) ([]byte, error){
		"zz_generated_tables.go":  renderTables,
		"zz_generated_actions.go": renderActions,
		"zz_generated_omitted.go": renderOmissions,
	} {
		data, err := render(bd)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		files[name] = data
	}
	return files, bd, nil
}

func report(bd *builder) {
	fmt.Printf("%d tables, %d actions, %d omitted of %d endpoints\n", len(bd.tables), len(bd.actions), len(bd.omitted), len(bd.spec.Endpoints()))
	for _, t := range bd.tables {
		fmt.Printf("TABLE %-45s %-40s cols=%d filters=%d unpushed=%d C=%v U=%v D=%v\n", t.Name, t.ListPath, len(t.Columns), len(t.Filters), len(t.Unpushed), t.CreatePath != "", t.UpdatePath != "", t.DeletePath != "")
		for _, u := range t.Unpushed {
			fmt.Printf("   unpushed %s: %s\n", u.Param, u.Reason)
		}
	}
	for _, a := range bd.actions {
		fmt.Printf("PROC %-50s %s %s (%d params) -> %s\n", a.Name, a.Method, a.Path, len(a.Params), a.Table)
	}
	for _, o := range bd.omitted {
		fmt.Printf("OMIT %s %s: %s\n", o.Method, o.Path, o.Reason)
	}
}
