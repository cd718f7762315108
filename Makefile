# kl: build, test and run. `make help` lists the targets.

GO           ?= go
PKG          := github.com/kl-dev/kl
BIN          := bin/kl
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)
COMMIT       ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS      := -X $(PKG)/pkg/version.Version=$(VERSION) -X $(PKG)/pkg/version.GitCommit=$(COMMIT)
TEST_TIMEOUT ?= 15m
PLUGINS      := kl-tree kl-lint
PREFIX       ?= /usr/local

.PHONY: help build plugins install images test run bench fuzz lint generate clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

# -buildvcs=false: the version and commit are stamped by -ldflags above, and
# VCS stamping fails in checkouts owned by another user.
build: ## build bin/kl (static, version stamped)
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kl

plugins: ## build the shipped plugins (kl-tree, kl-lint) into bin/
	for p in $(PLUGINS); do CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags "$(LDFLAGS)" -o bin/$$p ./plugins/$$p || exit 1; done

install: build plugins ## install kl and its plugins into $(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(addprefix bin/,$(PLUGINS)) $(DESTDIR)$(PREFIX)/bin/

images: ## build the test images (kl.test/echo:1, :2, ignore-sigterm, pause) into the local Docker Engine
	$(GO) run ./test/images/build

test: ## go vet, then every test with the race detector, then the client-go compatibility tests
	$(GO) vet ./...
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...
	cd test/k8sclient && $(GO) mod tidy && $(GO) vet ./... && $(GO) test -timeout 5m ./...

run: build ## run `kl server` on 127.0.0.1:6443 (HTTPS, data and certificates in ./.kl/data)
	./$(BIN) server --data-dir ./.kl/data --listen 127.0.0.1:6443

bench: ## run the benchmarks (no tests)
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

fuzz: ## fuzz every fuzz target for FUZZTIME (default 30s) each; FUZZ_TARGETS="./pkg/x:FuzzY ..." picks some
	GO=$(GO) bash hack/fuzz.sh

lint: ## fail on unformatted files, then go vet
	@files=$$(gofmt -l .); if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...

generate: ## regenerate the JSON Schemas in schemas/
	$(GO) run ./hack/schemagen -out schemas

clean: ## remove build output (not ./.kl/data)
	rm -rf bin
