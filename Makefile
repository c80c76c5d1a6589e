# stripesql: see README.md.
#
# Every go command builds with CGO_ENABLED=0 and -tags gms_pure_go: a static
# binary, and go-mysql-server does not build without cgo unless the tag
# selects its pure-Go regexp engine. Flags are passed explicitly rather than
# through GOFLAGS, so the targets behave the same whatever the environment.

export CGO_ENABLED := 0

GO   ?= go
TAGS := -tags gms_pure_go
BIN  := bin/stripesql

# Packages with benchmarks, found when bench runs.
BENCH_PKGS = $(sort $(patsubst %/,%,$(dir $(shell grep -rl --include='*_test.go' '^func Benchmark' .))))

.PHONY: build run test deps vet fmt-check bench fmt clean clients

## build: compile bin/stripesql
build:
	@echo "building $(BIN) (a cold build compiles go-mysql-server: about a minute, silent)"
	$(GO) build $(TAGS) -o $(BIN) ./cmd/stripesql

## run: build, then serve (the demo emulator unless STRIPE_API_KEY is set); ARGS='--read-only' adds flags
run: build
	./$(BIN) $(ARGS)

## test: install what the tests need, then vet, check formatting and run every test
test: deps vet fmt-check
	@echo "running every package's tests (the e2e package takes minutes; each package prints when done)"
	$(GO) test $(TAGS) -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory clients

## clients: the client matrix (mysql, mycli, PyMySQL/SQLAlchemy/pandas, MariaDB Connector/J, mysql2) against the demo; see clients/run
clients: build
	clients/install
	clients/run $(BIN)

# The end-to-end tests drive the stock mysql client. Install it when it is
# missing and we can: as root, with apt (Debian's package is
# default-mysql-client, which brings MariaDB's mysql command).
deps:
	@if ! command -v mysql >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing the mysql client (default-mysql-client)"; \
			apt-get update -q && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends default-mysql-client; \
		else \
			echo "warning: no mysql client and no root apt-get to install it; the mysql CLI test will be skipped" >&2; \
		fi; \
	fi
	@echo "downloading Go modules"
	$(GO) mod download

vet:
	@echo "vetting (a cold run compiles every package first: about a minute)"
	$(GO) vet $(TAGS) ./...

fmt-check:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "not gofmt-formatted (run make fmt):" >&2; echo "$$unformatted" >&2; exit 1; \
	fi

## bench: run the Go benchmarks, then stripesql bench against a seeded emulator (minutes; BENCH_ARGS='--quick' for seconds)
bench: build
	$(if $(BENCH_PKGS),$(GO) test $(TAGS) -run '^$$' -bench . -benchmem $(BENCH_PKGS),@echo "no benchmarks")
	./$(BIN) bench $(BENCH_ARGS)

## fmt: gofmt every Go file
fmt:
	gofmt -w .

## clean: remove build output
clean:
	rm -rf bin
