# microcert: `make run` starts the whole system locally, `make test` tests it.
# Everything runs on 127.0.0.1 without Docker or an AWS account; see README.md.

SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin

# Pinned tools, installed into the git-ignored bin/ on first use.
VERSITYGW_VERSION := v1.8.0
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
VERSITYGW := $(BIN)/versitygw
RIE := $(BIN)/aws-lambda-rie
TOOLS := $(VERSITYGW) $(RIE)
# Run with `go run`, pinned: nothing to install.
ACTIONLINT_VERSION := v1.7.12

# The Lambda build: the provided.al2023 runtime runs a static `bootstrap`.
LAMBDA_FLAGS := CGO_ENABLED=0
LAMBDA_BUILD := build -tags lambda.norpc -trimpath -ldflags='-s -w'
# sam build sets ARTIFACTS_DIR; deploys are arm64 (Globals.Architectures).
define lambda_arm64
	GOOS=linux GOARCH=arm64 $(LAMBDA_FLAGS) $(GO) $(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap $(1)
endef

FUNCTIONS := ApiFunction:api DocCheckFunction:doccheck ReminderFunction:reminder ExpiryFunction:expiry \
	RefundFunction:refund ReconcileFunction:reconcile DispatcherFunction:dispatcher

# Tests start real child processes (versitygw, aws-lambda-rie): give them time,
# and run packages two at a time on a 2-core machine.
TEST_TIMEOUT ?= 12m
TEST_FLAGS ?= -p 2

ROLE ?= applicant
# USER is also the login name in the environment: only a USER= on the command
# line names the token's subject.
ifeq ($(origin USER),command line)
TOKEN_USER := $(USER)
else
TOKEN_USER := user-1
endif
FN ?= ApiFunction
EVENT ?= events/api-health.json
FUZZTIME ?= 30s
FUZZ_SMOKE_TIME ?= 3000x

# The local stack's command (infra/local); rebuilt on every use (incremental).
LOCAL := $(BIN)/local

.PHONY: run test build tools token invoke bench fuzz lint deadcode contract-lint client clean template-check template-tools $(LOCAL)

run: ## start the whole stack on 127.0.0.1:3000 (Ctrl-C stops it)
	@$(MAKE) --no-print-directory -j2 tools $(LOCAL)
	$(LOCAL) run

# Built with the bootstraps' CGO_ENABLED=0 and -trimpath, so that the packages
# they share (the AWS SDK...) compile once on a cold cache.
$(LOCAL):
	@$(LAMBDA_FLAGS) $(GO) build -trimpath -o $@ ./infra/local

# The benchmarks are a Go module of their own (infra/bench/go.mod): the
# product's go.mod lists only what the product links. Every go command that
# covers the whole repository runs in both modules.
BENCH_MOD := -C infra/bench

# make test runs its two halves side by side (their outputs are kept apart):
# the Go tests spend much of their time waiting on the local stack's
# processes, which the linters, the fuzzing and the benchmarks use.
test: tools ## go vet + every test (the e2e tests start the local stack), and beside them the contract linters, a short fuzz of every parser, every benchmark once, cfn-lint and the deploy rehearsal
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-go test-checks

.PHONY: test-go test-checks
test-go: tools ## go vet + every Go test, in both modules
	$(GO) vet ./...
	$(GO) $(BENCH_MOD) vet ./...
	$(GO) test $(TEST_FLAGS) -timeout $(TEST_TIMEOUT) ./...
	$(GO) $(BENCH_MOD) test $(TEST_FLAGS) -timeout $(TEST_TIMEOUT) ./...

test-checks: tools ## the contract linters, fuzz-smoke, bench-smoke, template-check
	@$(MAKE) --no-print-directory contract-lint fuzz-smoke bench-smoke template-check

tools: $(TOOLS)

$(VERSITYGW):
	GOBIN=$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

$(RIE):
	GOBIN=$(BIN) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

build: ## arm64 bootstraps for deploy into build/<LogicalId>/, host-arch ones into bin/lambda/
	@set -e; for pair in $(FUNCTIONS); do id=$${pair%%:*}; dir=$${pair##*:}; \
	  $(MAKE) --no-print-directory build-$$id ARTIFACTS_DIR=$(CURDIR)/build/$$id; \
	  $(LAMBDA_FLAGS) $(GO) $(LAMBDA_BUILD) -o $(BIN)/lambda/$$id/bootstrap ./functions/$$dir; \
	done

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR.
build-ApiFunction:
	$(call lambda_arm64,./functions/api)

build-DocCheckFunction:
	$(call lambda_arm64,./functions/doccheck)

build-ReminderFunction:
	$(call lambda_arm64,./functions/reminder)

build-ExpiryFunction:
	$(call lambda_arm64,./functions/expiry)

build-DispatcherFunction:
	$(call lambda_arm64,./functions/dispatcher)

build-RefundFunction:
	$(call lambda_arm64,./functions/refund)

build-ReconcileFunction:
	$(call lambda_arm64,./functions/reconcile)

token: $(LOCAL) ## print a bearer token of the local issuer: make token ROLE=reviewer USER=u-1
	@$(LOCAL) token -role $(ROLE) -user $(TOKEN_USER)

invoke: tools $(LOCAL) ## run one function once: make invoke FN=ReminderFunction EVENT=events/schedule-reminder.json
	@$(LOCAL) invoke -fn $(FN) -event $(EVENT)

# The dead letters: the local stack's folder (STATE) or a deployed stack's
# SQS queue (STACK, with AWS credentials as for sam deploy).
STATE ?= .local
STACK ?=
.PHONY: redrive
redrive: ## re-deliver dead-lettered document checks to DocCheckFunction: make redrive [STATE=.local] | make redrive STACK=microcert-prod [DRY_RUN=1]
	@$(if $(STACK),,$(MAKE) --no-print-directory tools)
	@$(GO) run ./infra/redrive/cmd/redrive $(if $(STACK),-stack $(STACK),-state $(STATE)) $(if $(DRY_RUN),-dry-run)

# ARGS passes -batch, -pause, -max-batches and -from (see README, "Backfilling the due-list
# shards" and "Backfilling open-case slots and owner memberships").
.PHONY: backfill-shards backfill-enterprises
backfill-shards: ## move certifications written before the due-list shards into them: make backfill-shards [STATE=.local] | make backfill-shards STACK=microcert-prod [ARGS='-max-batches 1']
	@$(GO) run ./infra/backfill/cmd/backfill shards $(if $(STACK),-stack $(STACK),-state $(STATE)) $(ARGS)
backfill-enterprises: ## write the open-case slots and owner memberships that data from before them lacks: make backfill-enterprises [STATE=.local] | make backfill-enterprises STACK=microcert-prod [ARGS='-max-batches 1']
	@$(GO) run ./infra/backfill/cmd/backfill enterprises $(if $(STACK),-stack $(STACK),-state $(STATE)) $(ARGS)

bench: ## run every benchmark and regenerate BENCHMARKS.md (BENCH_ARGS=-h lists the knobs)
	@$(MAKE) --no-print-directory tools
	$(GO) $(BENCH_MOD) run ./report -root $(CURDIR) $(BENCH_ARGS)

.PHONY: bench-smoke
bench-smoke: ## every benchmark once (-benchtime 1x, -short sizes), so that none can rot
	@$(MAKE) --no-print-directory tools
	$(GO) test -short -run '^$$' -bench . -benchtime 1x -timeout $(TEST_TIMEOUT) $(call bench_pkgs,shared infra/localstack)
	$(GO) $(BENCH_MOD) test -short -run '^$$' -bench . -benchtime 1x -timeout $(TEST_TIMEOUT) $(call bench_pkgs,infra/bench)

# bench_pkgs: the packages under the folders $(1) that have a benchmark
# (linking a test binary for each of the others would cost a minute of CPU
# for nothing), as ./paths relative to their module.
bench_pkgs = $(patsubst %/,./%,$(patsubst infra/bench/%,%,$(sort $(dir $(shell grep -rl --include='*_test.go' '^func Benchmark' $(1))))))

# Every fuzz target of the parsers that take outside input: package:target.
FUZZ_TARGETS := \
	./shared/domain:FuzzValidateUSCC ./shared/domain:FuzzValidateIDNumber \
	./shared/domain:FuzzAddressesMatch ./shared/domain:FuzzValidID \
	./shared/httpapi:FuzzDecodeJSON ./infra/localstack/s3hook:FuzzNormalize \
	./shared/doccheck:FuzzSniff ./shared/doccheck:FuzzCheckImage \
	./shared/doccheck:FuzzCheckPDF ./shared/doccheck:FuzzDecodeStream ./shared/doccheck:FuzzCheckVideo \
	./shared/store:FuzzCursorDecode \
	./shared/uploadcheck:FuzzNormalizeSequencer ./shared/uploadcheck:FuzzParseKey \
	./shared/statements:FuzzParseTrades ./shared/statements:FuzzParsePayouts ./shared/strictjson:FuzzDecode

fuzz: ## fuzz every parser of outside input for FUZZTIME each (default 30s)
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "== $$fn ($$pkg) for $(FUZZTIME)"; \
	  $(GO) test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=10x $$pkg; \
	done

.PHONY: fuzz-smoke
fuzz-smoke: ## every fuzz target briefly (part of make test)
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZ_SMOKE_TIME)

lint: ## gofmt must list nothing; go vet; the contract linters; actionlint on .github/workflows; cfn-lint and the deploy rehearsal
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) $(BENCH_MOD) vet ./...
	@$(MAKE) --no-print-directory contract-lint
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	@$(MAKE) --no-print-directory template-check

# AWS's own tools, in Python (PyPI): the template linter with the SAM
# translator, and moto for the deploy rehearsal. Pinned like everything else.
AWS_PY_TOOLS := cfn-lint==1.51.0 aws-sam-translator==1.110.0 'moto[server]==5.2.1'

template-tools: ## pip install the pinned cfn-lint, SAM translator and moto (what CI installs)
	python3 -m pip install $(AWS_PY_TOOLS)

# cfn-lint with the informational checks too: zero findings (a finding that is
# accepted carries its reason in template.yaml, Metadata cfn-lint ignore_checks).
# Then the rehearsal: the template through the SAM translator into moto's
# CloudFormation (infra/rehearsal/rehearse.py). A machine without the tools
# skips both with one line; CI (CI=true) fails instead.
template-check: ## cfn-lint (0 findings, informational included) + the deploy rehearsal in moto
	@missing=""; command -v cfn-lint >/dev/null 2>&1 || missing="cfn-lint"; \
	  python3 -c 'import samtranslator, moto.server, boto3' >/dev/null 2>&1 || missing="$$missing$${missing:+, }aws-sam-translator/moto"; \
	  if [ -n "$$missing" ]; then \
	    msg="skipped: cfn-lint and the deploy rehearsal ($$missing not installed); install with: pip install $(AWS_PY_TOOLS)"; \
	    if [ -n "$$CI" ]; then echo "$$msg" >&2; echo "CI must run them" >&2; exit 1; fi; \
	    echo "$$msg"; exit 0; \
	  fi; \
	  set -e; echo "cfn-lint template.yaml (informational checks included)"; \
	  cfn-lint --include-checks I -- template.yaml; \
	  python3 infra/rehearsal/rehearse.py template.yaml

# The API contract's linters, pinned in infra/contract/package-lock.json:
# Spectral with spectral:oas (0 errors, 0 warnings) and the OWASP ruleset
# (every finding fixed or waived with its reason), both in spectral.yaml and
# one pass; Redocly's recommended rules (0 problems).
CONTRACT := infra/contract
CONTRACT_DOCS := openapi.yaml openapi-sandbox.yaml
NODE_OK := node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'

contract-lint: ## Spectral (spectral:oas, OWASP) and Redocly on openapi.yaml and openapi-sandbox.yaml
	@if ! command -v npm >/dev/null 2>&1 || ! $(NODE_OK) 2>/dev/null; then \
	  echo "contract-lint: skipped, install with: apt-get install nodejs npm (Node.js 20.19 or later), then run make lint"; exit 0; fi; \
	  set -e; cd $(CONTRACT); \
	  export REDOCLY_TELEMETRY=off SCARF_ANALYTICS=false; \
	  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	    npm ci --no-audit --no-fund --loglevel=error; fi; \
	  docs="$(addprefix ../../,$(CONTRACT_DOCS))"; \
	  echo "== Spectral, spectral:oas + OWASP API Security Top 10 2023: $(CONTRACT_DOCS)"; \
	  ./node_modules/.bin/spectral lint --fail-severity warn -r spectral.yaml $$docs; \
	  echo "== Redocly, recommended: $(CONTRACT_DOCS)"; \
	  ./node_modules/.bin/redocly lint --config redocly.yaml --format stylish $$docs 2>&1 | grep -v "^\s*[║╔╚]"; \
	  exit $${PIPESTATUS[0]}

client: ## regenerate the Go client infra/contract/client from openapi.yaml (pinned oapi-codegen)
	$(GO) generate ./$(CONTRACT)/client

DEADCODE_VERSION := v0.52.0

# Both modules at once (a throwaway go.work), so that what only the
# benchmarks call counts as called; tests count too.
deadcode: ## unreachable functions of both modules, tests included: must list nothing
	@work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	  printf 'go %s\nuse (\n\t%s\n\t%s/infra/bench\n)\n' "$$($(GO) env GOVERSION | sed 's/^go//')" "$(CURDIR)" "$(CURDIR)" > "$$work/go.work"; \
	  out=$$(GOWORK="$$work/go.work" $(GO) run golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION) -test ./... ./infra/bench/...) || exit 1; \
	  if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; echo "deadcode: nothing unreachable"

clean: ## remove build output and local state (.local/); keeps the pinned tools
	rm -rf build .aws-sam .local $(BIN)/lambda $(BIN)/lambda-test $(LOCAL)
