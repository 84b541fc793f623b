.PHONY: help dev release fmt lint test stubtest bench fuzz-smoke

help:            ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

dev:             ## build the extension in place (debug) into the active venv
	maturin develop

release:         ## build an abi3 release wheel into dist/
	maturin build --release -o dist

fmt:             ## format Rust and Python
	cargo fmt --all
	ruff format python tests benches/py

lint:            ## every lint gate of CI
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	ruff check python tests benches/py
	ruff format --check python tests benches/py
	mypy

test:            ## Rust and Python tests (the README command)
	pip install '.[test]' && cargo test --workspace --locked && python -m pytest

stubtest:        ## check the extension's stubs against the built module
	python -m mypy.stubtest netcore._netcore --allowlist stubtest-allowlist.txt

bench:           ## peer comparisons (not part of the tests)
	python benches/py/bench_capture_read.py

fuzz-smoke:      ## run every fuzz target briefly
	fuzz/smoke.sh 20
