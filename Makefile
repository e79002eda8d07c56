# logmend — `make demo` and `make test` set up what they need on first use:
# the Python venv with the pinned emulator (moto[server] 5.2.5) in .venv/.

SHELL        := bash
PYTHON       ?= python3
VENV         := .venv
VENV_STAMP   := $(VENV)/.installed
CARGO        ?= cargo
# checkov and the SAM translator, for `make test`/`make lint` (template lint, StackSet render).
LINT_VENV    := .venv-lint
LINT_STAMP   := $(LINT_VENV)/.installed
# cargo-lambda and zig, for `make build` only.
BUILD_VENV   := .venv-build
BUILD_STAMP  := $(BUILD_VENV)/.installed
# One function per family (shared/src/lib.rs FAMILIES); tests/it/dependencies.rs holds the
# folders and the registry equal.
FUNCTIONS    := $(notdir $(wildcard functions/*))
# The CDK construct's npm packages (aws-cdk-lib, the cdk CLI, typescript), pinned by its lock.
CDK_STAMP    := infra/cdk/node_modules/.installed
# Headless Chromium renders the HTML report in the tests (Debian's package; as root on CI).
CHROMIUM     ?= /usr/bin/chromium
# One build for tests and demo: `cargo test --workspace` enables the SDKs' test-util
# feature (dev-dependencies), so building the demo binary the same way reuses it instead of
# compiling every SDK crate a second time.
CARGO_TEST_BUILD := $(CARGO) test --workspace --no-run --locked

.PHONY: help venv test demo lint lint-template template build deploy stackset-template fuzz bench fmt clean

help:
	@echo "make demo   run logmend against the local AWS emulator: non-compliant before, fixed after"
	@echo "make test   the whole test suite (unit + integration against the emulator)"
	@echo "make lint   rustfmt check, clippy, cfn-lint and checkov on infra/template.yaml"
	@echo "make build  release arm64 Lambda zips (cargo-lambda) in target/lambda/"
	@echo "make template  write infra/template.yaml from the control registry (logmend template)"
	@echo "make deploy sam deploy of infra/template.yaml (guided the first time)"
	@echo "make stackset-template  the template a StackSet deploys, in infra/build/"
	@echo "make fuzz   fuzz the event parser and handler for FUZZ_SECONDS (default 300)"
	@echo "make bench  cold start, memory, sizes, per-event cost, sweep vs Cloud Custodian: bench/results.md"
	@echo "make venv   create .venv with the pinned emulator (done by test and demo)"

$(VENV_STAMP): tests/emulator/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
	touch $@

venv: $(VENV_STAMP)

$(LINT_STAMP): infra/requirements-lint.txt
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-lint.txt
	touch $@

$(BUILD_STAMP): infra/requirements-build.txt
	$(PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-build.txt
	touch $@

$(CDK_STAMP): infra/cdk/package.json infra/cdk/package-lock.json
	npm ci --prefix infra/cdk --no-audit --no-fund --loglevel=error
	touch $@

$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(VENV_STAMP) lint-template $(CHROMIUM) $(CDK_STAMP)
	$(CARGO) fmt --all --check
	CHROMIUM=$(CHROMIUM) $(CARGO) test --workspace --locked

demo: $(VENV_STAMP)
	$(CARGO_TEST_BUILD) --quiet
	./scripts/demo.sh

lint: lint-template
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# cfn-lint comes with the emulator's pinned packages; checkov runs offline (--skip-download).
# Every suppressed checkov finding is explained beside it in the template's Metadata.
lint-template: $(VENV_STAMP) $(LINT_STAMP) stackset-template
	$(VENV)/bin/cfn-lint infra/template.yaml infra/stackset.yaml infra/code-bucket.yaml \
		infra/build/logmend-stack-instance.json
	$(LINT_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		-f infra/template.yaml -f infra/stackset.yaml -f infra/code-bucket.yaml

# One cargo-lambda run builds every function (one resolution of features, one target dir);
# zig, from the tools venv, cross-links for arm64 against glibc 2.30+ (provided.al2023).
build: $(BUILD_STAMP)
	PATH="$(CURDIR)/$(BUILD_VENV)/bin:$$PATH" $(BUILD_VENV)/bin/cargo-lambda lambda build --release --arm64 \
		--locked $(addprefix -p ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do \
		rm -f target/lambda/$$f.zip; \
		(cd target/lambda/$$f && $(CURDIR)/$(BUILD_VENV)/bin/python -m zipfile -c ../$$f.zip bootstrap) || exit 1; \
		printf '%-18s bootstrap %8s bytes   zip %8s bytes\n' $$f \
			$$(stat -c %s target/lambda/$$f/bootstrap) $$(stat -c %s target/lambda/$$f.zip); \
	done

# The plain-CloudFormation template a StackSet deploys (no transforms there): infra/build/.
stackset-template: $(LINT_STAMP)
	$(LINT_VENV)/bin/python infra/render_stackset.py

# infra/template.yaml is the registry's output; tests/it/template.rs fails when it is stale.
template:
	$(CARGO) run --quiet --locked -p logmend -- template > infra/template.yaml

# cargo-fuzz (installed by make from crates.io) drives libFuzzer over fuzz/fuzz_targets/event.rs,
# seeded with every sample event. No sanitizer: the project has no unsafe code, and panics are
# what the target looks for. A crash is copied to fuzz/regressions/, which `make test` replays.
FUZZ_SECONDS ?= 300
CARGO_FUZZ   := $(shell command -v cargo-fuzz 2>/dev/null)
fuzz:
	@test -n "$(CARGO_FUZZ)" || $(CARGO) install cargo-fuzz --locked --version 0.13.2
	rm -rf fuzz/corpus/event-seeds && mkdir -p fuzz/corpus/event fuzz/corpus/event-seeds
	find events -name '*.json' -exec cp {} fuzz/corpus/event-seeds/ \;
	cp fuzz/regressions/*.json fuzz/corpus/event-seeds/
	$(CARGO) fuzz run -s none event fuzz/corpus/event fuzz/corpus/event-seeds -- \
		-max_total_time=$(FUZZ_SECONDS) -max_len=262144 -print_final_stats=1 2>&1 | tee fuzz/last-run.log; \
	status=$${PIPESTATUS[0]}; \
	for f in fuzz/artifacts/event/*; do [ -e "$$f" ] && cp "$$f" fuzz/regressions/; done; \
	grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' fuzz/last-run.log || true; \
	exit $$status

# Benchmarks: the release binaries (x86_64, measured here) and the arm64 zips (their sizes),
# Cloud Custodian in its own venv, everything against the emulator. BENCH_ARGS=--quick for a
# short run (1,000 groups, 3 runs).
BENCH_VENV  := .venv-bench
$(BENCH_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: $(VENV_STAMP) $(BENCH_VENV)/.installed build
	$(CARGO) build --release --locked -p logmend $(addprefix -p ,$(FUNCTIONS))
	$(CARGO) build --release --locked -p logmend-core --example bare_lambda
	$(VENV)/bin/python bench/bench.py $(BENCH_ARGS)

# SAM CLI lives in its own venv, made on first use (it pins its own boto3 and friends).
DEPLOY_VENV := .venv-deploy
$(DEPLOY_VENV)/.installed:
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0
	touch $@

deploy: $(DEPLOY_VENV)/.installed
	@for f in $(FUNCTIONS); do test -f target/lambda/$$f/bootstrap || { echo "run make build first"; exit 1; }; done
	@if [ -f infra/samconfig.toml ]; then \
		$(DEPLOY_VENV)/bin/sam deploy --template-file infra/template.yaml --config-file samconfig.toml; \
	else \
		$(DEPLOY_VENV)/bin/sam deploy --guided --template-file infra/template.yaml \
			--capabilities CAPABILITY_IAM --config-file samconfig.toml; \
	fi

fmt:
	$(CARGO) fmt --all

clean:
	rm -rf $(VENV) $(LINT_VENV) $(BUILD_VENV) $(DEPLOY_VENV) $(BENCH_VENV) target
