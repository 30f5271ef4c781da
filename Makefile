# ward: two commands matter: `make run` (development server) and `make test`.
GO ?= go
# The race detector needs cgo, hence a C compiler; use it when there is one.
RACE := $(shell command -v gcc >/dev/null 2>&1 && echo -race)
CGO := $(if $(RACE),1,0)

.PHONY: run test build fuzz lint bench bench-audit-overhead generate

build:
	$(GO) build -o bin/ward ./cmd/ward

run: build
	./bin/ward serve --dev

test:
	$(GO) vet ./...
	CGO_ENABLED=$(CGO) $(GO) test $(RACE) -count=1 -timeout 20m ./...

# Brief fuzzing of the untrusted-input parsers (CI runs this). Budgets are
# execution counts (about 15 s each here), not durations: with a duration,
# Go 1.26's fuzz coordinator can fail a clean run with "context deadline
# exceeded" as the time runs out (go.dev/issue/75804, fixed in Go 1.27).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 1000000x ./internal/fhir
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 200000x ./internal/fhir/search
	$(GO) test -run '^$$' -fuzz '^FuzzVerifyArchive$$' -fuzztime 100000x ./internal/audit/ledger

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

# What the audit ledger costs a read-heavy HTTP load: BenchmarkAPIReadHeavy
# with the ledger and with the auditdiscard tag (events dropped; such a
# build refuses to serve), at each of AUDIT_CLIENTS concurrent clients,
# AUDIT_RUNS runs of each, alternated so that other work on a shared
# machine weighs on both alike; then benchstat (docs/benchmarks.md).
BENCHSTAT ?= golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
AUDIT_BENCH = -test.run '^$$' -test.bench '^BenchmarkAPIReadHeavy$$' -test.benchtime 3s
AUDIT_CLIENTS ?= 16 128
AUDIT_RUNS ?= 1 2 3 4 5 6
bench-audit-overhead:
	@mkdir -p bin
	$(GO) test -c -o bin/api-ledger.test ./internal/api
	$(GO) test -c -tags auditdiscard -o bin/api-discard.test ./internal/api
	rm -f bin/audit-ledger.txt bin/audit-discard.txt
	cd internal/api && for i in $(AUDIT_RUNS); do for c in $(AUDIT_CLIENTS); do \
		../../bin/api-ledger.test $(AUDIT_BENCH) -readheavy.clients $$c >> ../../bin/audit-ledger.txt || exit 1; \
		../../bin/api-discard.test $(AUDIT_BENCH) -readheavy.clients $$c >> ../../bin/audit-discard.txt || exit 1; \
	done; done
	$(GO) run $(BENCHSTAT) ledger=bin/audit-ledger.txt discard=bin/audit-discard.txt

# Regenerate the FHIR schema tables from ../shared/data/fhir-r4-core.
generate:
	$(GO) generate ./internal/fhir ./internal/fhir/search
