package catalog

// The catalog's tables and actions are generated from Stripe's OpenAPI spec
// (zz_generated_*.go), then documented (docs/tables.md). The second step
// reads the catalog the first one wrote; it needs the gms_pure_go tag to
// build without cgo (it imports package procedures).
//
//go:generate go run ./internal/gen
//go:generate go run -tags gms_pure_go ./internal/docgen
