package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// docs/tables.md is committed; it must be what docgen makes of the
// catalog. After changing the catalog, run go generate ./catalog/...
func TestDocsAreUpToDate(t *testing.T) {
	want, err := render()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "tables.md"))
	if err != nil {
		t.Fatalf("%v (run go generate ./catalog/...)", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("docs/tables.md differs from what catalog/internal/docgen produces: run go generate ./catalog/...")
	}
}
