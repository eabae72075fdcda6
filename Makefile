# multidb: one GraphQL API over several databases.
# `make help` lists the targets. ENV picks the environment (development, test, staging,
# production) and its .env.<ENV> file; DB and NAME name a database and a new file.

ENV ?= development
BIN := ./build/multidb
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
GO ?= go

export ENV
export CGO_ENABLED ?= 0

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: build ## Build, migrate and seed the databases of ENV (SQLite files in ./data by default), serve
	$(BIN) migrate up
	$(BIN) seed
	$(BIN) serve

.PHONY: dev
dev: ## Serve, rebuilding and restarting on every source change
	$(GO) tool air -c .air.toml

.PHONY: build
build: ## Clean ./build and compile the binary to ./build/multidb
	rm -rf ./build
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/multidb

.PHONY: start
start: ## Run the built binary (make build first)
	@test -x $(BIN) || { echo "make start: $(BIN) does not exist; run make build first (or make run, which builds)" >&2; exit 1; }
	$(BIN) serve

.PHONY: test
test: ## Run every test (PostgreSQL on 127.0.0.1:5432 is used when it answers; CI=true requires it)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

.PHONY: generate
generate: ## Regenerate the ent clients, their GraphQL SDL and the gqlgen server
	$(GO) generate ./ent/...
	$(GO) generate ./graph/...

.PHONY: migrate
migrate: build ## Apply pending migrations of every database of ENV (make migrate ENV=staging)
	$(BIN) migrate up $(if $(DB),--db $(DB))

.PHONY: migration
migration: ## Generate the next migration from the ent schema: make migration DB=users NAME=add_avatar
	@test -n "$(DB)" -a -n "$(NAME)" || (echo "usage: make migration DB=users NAME=add_avatar" >&2; exit 2)
	$(MAKE) generate
	$(GO) run ./cmd/multidb migrate new $(NAME) --db $(DB) $(foreach r,$(RENAME),--rename $(r))

.PHONY: seed
seed: build ## Run the seeders of ENV that have not run yet (make seed ENV=staging)
	$(BIN) seed $(if $(DB),--db $(DB))

.PHONY: seed-new
seed-new: ## Scaffold a seeder: make seed-new DB=analytics NAME=demo_funnel
	@test -n "$(DB)" -a -n "$(NAME)" || (echo "usage: make seed-new DB=analytics NAME=demo_funnel" >&2; exit 2)
	$(GO) run ./cmd/multidb new seed $(DB) $(NAME)

.PHONY: schema
schema: ## Scaffold an ent type with a name field, its list, node and mutations: make schema DB=users NAME=Team
	@test -n "$(DB)" -a -n "$(NAME)" || (echo "usage: make schema DB=users NAME=Team" >&2; exit 2)
	$(GO) run ./cmd/multidb new schema $(DB) $(NAME)
	$(MAKE) migration DB=$(DB) NAME=add_$$(echo $(NAME) | tr A-Z a-z)

.PHONY: database
database: ## Scaffold a database end to end: make database NAME=billing (schema, registry, migrations, compose, seeder)
	@test -n "$(NAME)" || (echo "usage: make database NAME=billing" >&2; exit 2)
	$(GO) run ./cmd/multidb new database $(NAME)
	$(MAKE) generate
	$(GO) run ./cmd/multidb migrate new init --db $(NAME)

.PHONY: adopt
adopt: ## Adopt an existing database: make adopt DB=legacy URL=postgres://… (ent schema, init migration, baseline, registry)
	@test -n "$(DB)" -a -n "$(URL)" || (echo "usage: make adopt DB=legacy URL=postgres://user@host:5432/legacy" >&2; exit 2)
	$(GO) run ./cmd/multidb adopt --db $(DB) --url '$(URL)'
	$(MAKE) generate

.PHONY: check-adopt
check-adopt: ## In a temporary copy: adopt a legacy PostgreSQL database, generate, and query it through the graph
	bash ./scripts/check-adopt.sh

.PHONY: check-scaffold
check-scaffold: ## In a temporary copy: make database NAME=billing, make schema DB=users NAME=Team, then build, vet and the access and batching tests
	bash ./scripts/check-scaffold.sh

.PHONY: bench
bench: ## Seed a large PostgreSQL data set (10,000 users, 1M events, 300,000 log entries) and run the benchmarks
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 5s ./bench/

.PHONY: bench-live
bench-live: ## Live load on PostgreSQL against the real binary: LIVE_SUBSCRIBERS (1000) subscriptions, LIVE_RATE (1000) events/s for LIVE_DURATION (20) s; the server's RSS
	$(GO) test -tags live -run '^TestLiveLoad$$' -count=1 -v -timeout 10m ./bench/

.PHONY: soak
soak: ## 60s of mixed load against the real binary on PostgreSQL: latency, errors, leaks, lost writes
	SOAK_DURATION=$(or $(SOAK_DURATION),60s) $(GO) test -tags soak -run '^TestSoak$$' -count=1 -v -timeout 10m ./internal/faults/

.PHONY: check-generate
check-generate: ## Fail when generated code differs from its sources
	$(GO) generate ./ent/...
	$(GO) generate ./graph/...
	@git diff --exit-code --stat -- ent graph migrate internal/database || (echo "generated code is stale: run make generate and commit" >&2; exit 1)
	@test -z "$$(git status --porcelain -- ent graph migrate internal/database)" || (git status --short -- ent graph migrate internal/database; echo "generate created untracked files: commit them" >&2; exit 1)

.PHONY: fmt
fmt: ## gofmt every file
	gofmt -w $$(git ls-files '*.go')

.PHONY: clean
clean: ## Remove ./build and the development SQLite files in ./data
	rm -rf ./build ./data
