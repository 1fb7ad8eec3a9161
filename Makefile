# `make test` and `make report` are the whole quick start: each installs what is missing (and says
# so), skips what is present, then runs the deno tasks. Works as root (CI) and as a user with sudo.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

DENO_VERSION := 2.9.6
PYTHON := /usr/bin/python3
# Jupyter to run notebooks headless, the Fashion-MNIST files, OpenBLAS for the fast backend (serial,
# and threaded for grids that train on every core),
# Chromium, in which the tests look at an exported report, and strace, with which they check that
# atomic writes sync before renaming.
APT_PACKAGES := jupyter-notebook jupyter-nbconvert python3-nbconvert python3-nbclient \
	jupyter-client python3-ipykernel dataset-fashion-mnist libopenblas0-serial libopenblas0-pthread \
	chromium strace
BENCH_APT_PACKAGES := python3-torch
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export NO_COLOR := 1

.PHONY: test test-fast report bench setup deno apt kernel deps data clean

## test: install what is missing, then formatting, lint, type checks, unit tests and every notebook (QUICK=1)
test: setup
	deno task check
	deno task test

## test-fast: the edit loop: install what is missing, then formatting, lint, type checks and the unit tests
test-fast: setup
	deno task check
	deno task test:fast

## report: install what is missing, then execute every notebook (full profile) into reports/*.html
report: setup
	deno task report

## bench: epoch time per backend, and PyTorch's when Debian's python3-torch is installed
bench: setup
	@$(MAKE) --no-print-directory apt APT_PACKAGES="$(BENCH_APT_PACKAGES)" || echo "bench: going on without PyTorch or the threaded OpenBLAS"
	deno task bench

setup: deno apt kernel deps data

deno:
	@if command -v deno >/dev/null; then \
	  found=$$(deno --version | sed -n 's/^deno \([0-9.]*\).*/\1/p'); \
	  [ "$$found" = "$(DENO_VERSION)" ] || echo "setup: found deno $$found; this project is tested with $(DENO_VERSION)"; \
	else \
	  command -v npm >/dev/null || { echo "setup: cannot install Deno: npm is missing. Install Node.js and npm, or Deno $(DENO_VERSION) from https://deno.com" >&2; exit 1; }; \
	  echo "setup: installing Deno $(DENO_VERSION) from npm (npm install -g deno@$(DENO_VERSION))"; \
	  if [ -w "$$(npm prefix -g)/lib" ]; then npm install -g deno@$(DENO_VERSION); \
	  else $(SUDO) npm install -g deno@$(DENO_VERSION); fi; \
	  command -v deno >/dev/null || { echo "setup: deno was installed but is not on PATH; add $$(npm prefix -g)/bin to PATH" >&2; exit 1; }; \
	fi

apt:
	@missing=$$(for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed' || echo "$$p"; done); \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then \
	    echo "setup: please install these (Debian/Ubuntu package names): $$(echo $$missing)" >&2; \
	    echo "setup: Jupyter with nbconvert/nbclient, OpenBLAS, and Fashion-MNIST's four IDX files in FASHION_MNIST_DIR" >&2; exit 1; \
	  fi; \
	  echo "setup: installing with apt-get: $$(echo $$missing)"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

kernel:
	@if ! jupyter kernelspec list 2>/dev/null | grep -q '^ *deno '; then \
	  echo "setup: installing the Deno Jupyter kernel (deno jupyter --install)"; \
	  deno jupyter --install --force; \
	fi

deps:
	@deno install --frozen --quiet

data: deps
	@deno task --quiet setup

clean:
	rm -rf reports node_modules data/mnist data/fashion-mnist
