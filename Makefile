# Vigil: `make test` is the whole test suite (what CI runs); `make build`
# builds ./vigil.

GO ?= go
PKGS := ./...

.PHONY: build test check deps fmt vet unit fuzz bench

build:
	$(GO) build -o vigil ./cmd/vigil

# test: formatting, vet, and every test with the race detector off (the
# 2-core CI machine needs the time). scripts/test-deps installs what the
# tests need when it is missing (Debian's Chromium, for the console), and
# VIGIL_REQUIRE_BROWSER makes a missing browser a failure, not a skip.
test: check deps unit

deps:
	./scripts/test-deps

check: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

unit:
	VIGIL_REQUIRE_BROWSER=1 $(GO) test -count=1 $(PKGS)

# fuzz: run every fuzz target for FUZZTIME each (default 60s).
FUZZTIME ?= 60s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# bench: decode benchmarks per source, and ingest of 1M simulated events.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/source/...
	$(GO) run ./cmd/vigil bench decode --events 200000
	$(GO) run ./cmd/vigil bench ingest --events 1000000
