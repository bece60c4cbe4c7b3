#!/usr/bin/env bash
# A separate virtualenv, .venv-bench, with vap built in the release profile
# (the test venv uses the dev profile) and the peers the side-by-side scripts
# compare against. Idempotent; rebuilds vap each time so it matches the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-bench/bin/python ]; then
  python3 -m venv .venv-bench
fi
.venv-bench/bin/pip install -q --upgrade pip
.venv-bench/bin/pip install -q "pandas>=2.2" "polars>=1.0" "pyarrow>=14" "numpy>=1.21" "ruptures>=1.1" "statsmodels>=0.14" "scikit-learn>=1.3"
MATURIN_PEP517_ARGS="--profile release" .venv-bench/bin/pip install -q --no-deps --force-reinstall .
