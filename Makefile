# logmend — `make demo` and `make test` set up what they need on first use:
# the Python venv with the pinned emulator (moto[server] 5.2.5) in .venv/.

SHELL        := bash
PYTHON       ?= python3
VENV         := .venv
VENV_STAMP   := $(VENV)/.installed
CARGO        ?= cargo
# One build for tests and demo: `cargo test --workspace` enables the SDKs' test-util
# feature (dev-dependencies), so building the demo binary the same way reuses it instead of
# compiling every SDK crate a second time.
CARGO_TEST_BUILD := $(CARGO) test --workspace --no-run --locked

.PHONY: help venv test unit integration demo lint fmt clean

help:
	@echo "make demo   run logmend against the local AWS emulator: non-compliant before, fixed after"
	@echo "make test   the whole test suite (unit + integration against the emulator)"
	@echo "make lint   rustfmt check and clippy"
	@echo "make venv   create .venv with the pinned emulator (done by test and demo)"

$(VENV_STAMP): tests/emulator/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
	touch $@

venv: $(VENV_STAMP)

test: $(VENV_STAMP)
	$(CARGO) fmt --all --check
	$(CARGO) test --workspace --locked

demo: $(VENV_STAMP)
	$(CARGO_TEST_BUILD) --quiet
	./scripts/demo.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	rm -rf $(VENV) target
