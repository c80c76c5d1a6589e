// Package emulator is an in-memory, stateful, Stripe-compatible API server.
//
// An Emulator is an http.Handler that answers the subset of the Stripe API
// (version 2026-08-26.dahlia) the stripesql SQL layer uses, with Stripe's
// semantics: customers (and their cards), payment intents, payment
// methods, charges, refunds, products, prices, invoices, invoice items,
// quotes, Connect accounts, subscriptions and test clocks. It backs the stripesql
// binary's demo mode (NewDemo) and the project's end-to-end tests.
//
// What it models:
//
//   - Objects carry every top-level property of their OpenAPI schema, null
//     where unset, with Stripe's defaults; expandable references are ids,
//     and expand[] inlines them.
//   - Create, retrieve, update (hashes merge; an empty value unsets;
//     metadata[k]= deletes a key) and delete, with Stripe's 404 and 400
//     errors, and unknown or mistyped parameters rejected.
//   - Lists: newest first, limit 1–100, starting_after/ending_before,
//     every documented filter, created ranges, and Stripe's default
//     visibility (active prices only, no ended subscriptions, no test-clock
//     objects unless asked).
//   - Search with its query language, and an optional indexing lag.
//   - Actions as state transitions (finalize, pay, void, confirm, capture,
//     accept, attach, …) with Stripe's errors for illegal ones.
//   - Idempotency keys, a request log, and injectable faults (rate limits,
//     lock timeouts, server errors, dropped connections).
//   - Events: every change, by any request or Go-side helper, is recorded
//     as the Stripe event(s) it causes (customer.updated with
//     previous_attributes, invoice.finalized, customer.source.created, …)
//     and served by GET /v1/events (newest first, created ranges, type
//     wildcards, types[], cursors) and /v1/events/{id}. Knobs delay an
//     event's visibility, make events visible out of order, and set the
//     retention (Stripe's 30 days by default); see events.go. Seeding
//     records no events.
//
// The resources are described declaratively (resources.go): path, id
// prefix, list filters, search fields and a few hooks. Generic handlers do
// the rest. The facts taken from Stripe's OpenAPI spec (object properties,
// operation parameters) are extracted by gen_schema.go into schema.json, so
// the 8 MB spec is not linked into binaries.
//
// All state lives in the Emulator, guarded by one mutex; ids come from a
// PRNG it owns, so a sequence of requests mints the same ids every run.
package emulator
