"""scripts/whisper-model.py's quantisation: ggml's q8_0 and q5_1 blocks as
whisper.cpp decodes them, checked against the f16 values, and a whole model
file quantised and read back (the transcription with the quantised models is
in test_media.py)."""

from __future__ import annotations

import importlib.util
import io
import struct
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wm():
    spec = importlib.util.spec_from_file_location(
        "whisper_model", ROOT / "scripts/whisper-model.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_q8_0_blocks_are_a_scale_and_32_bytes(wm):
    x = np.arange(32, dtype=np.float32) - 12.0  # amax 19
    data = wm.quantize(x, "q8_0")
    assert len(data) == 34
    (d,) = struct.unpack_from("<e", data, 0)
    assert d == pytest.approx(19 / 127, rel=1e-3)
    q = np.frombuffer(data, dtype=np.int8, offset=2)
    assert q[0] == round(-12 / d) and q[31] == 127
    back = wm.dequantize(data, "q8_0")
    assert np.abs(back - x).max() <= d / 2 + 127 * abs(d - 19 / 127) + 1e-6


def test_q5_1_blocks_keep_the_minimum_and_five_bits(wm):
    x = np.linspace(-1.0, 2.1, 32, dtype=np.float32)
    data = wm.quantize(x, "q5_1")
    assert len(data) == 24
    d, m = struct.unpack_from("<ee", data, 0)
    assert d == pytest.approx(3.1 / 31, rel=1e-3) and m == pytest.approx(-1.0, rel=1e-3)
    back = wm.dequantize(data, "q5_1")
    # An evenly spaced row lands on the 32 levels, the fifth bit included.
    assert np.abs(back - x).max() < 0.01
    assert back[0] == pytest.approx(-1.0, abs=1e-3) and back[-1] == pytest.approx(2.1, abs=2e-3)


@pytest.mark.parametrize("kind", ["q8_0", "q5_1"])
def test_random_rows_decode_within_half_a_step(wm, kind):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(32 * 500) * rng.uniform(1e-6, 3.0, 32 * 500)).astype(np.float16)
    data = wm.quantize(x, kind)
    assert len(data) == 500 * wm.QUANTS[kind][2]
    err, norm = wm.check_quantized(x, data, kind, "x")
    rel = (err / norm) ** 0.5
    assert 0 < rel < (0.02 if kind == "q8_0" else 0.08), rel
    # A corrupted block is refused, by name.
    bad = bytearray(data)
    bad[wm.QUANTS[kind][2] * 3 + 8] ^= 0x70
    with pytest.raises(wm.ConvertError, match=r"x: .* block 3 "):
        wm.check_quantized(x, bytes(bad), kind, "x")


def test_a_model_file_is_quantised_matrix_by_matrix(wm):
    hp = {k: 0 for k in wm.HPARAM_ORDER}
    hp.update(
        n_vocab=64,
        n_audio_ctx=8,
        n_audio_state=32,
        n_audio_head=2,
        n_audio_layer=1,
        n_text_ctx=8,
        n_text_state=32,
        n_text_head=2,
        n_text_layer=1,
        n_mels=4,
    )
    rng = np.random.default_rng(3)
    tensors = [
        (name, rng.standard_normal(shape).astype(np.float32) * 0.1)
        for name, (shape, _) in wm.expected_tensors(hp).items()
    ]
    f16 = io.BytesIO()
    wm.write_ggml(wm.HashingWriter(f16), hp, np.ones((4, 201), np.float32), [b"a", b"bc"], tensors)
    q8 = io.BytesIO()
    count, rel = wm.quantize_ggml(f16.getvalue(), "q8_0", wm.HashingWriter(q8))
    matrices = [n for n, a in tensors if a.ndim == 2 and a.shape[1] % 32 == 0]
    matrices = [n for n in matrices if wm.expected_tensors(hp)[n][1] == wm.GGML_FTYPE_F16]
    assert count == len(matrices) > 0 and 0 < rel < 0.02
    # Read it back: the header says q8_0, matrices are q8_0, the rest as was.
    b = q8.getvalue()
    head, _, read = wm.read_ggml(b)
    assert head[0] == wm.GGML_MAGIC and head[-1] == 2007
    assert [t.name for t in read] == [n for n, _ in tensors]
    for t, (name, arr) in zip(read, tensors):
        assert tuple(reversed(t.dims)) == arr.shape
        if name in matrices:
            assert t.ttype == 8 and t.size == arr.size // 32 * 34
            back = wm.dequantize(b[t.offset : t.offset + t.size], "q8_0").reshape(arr.shape)
            ref = arr.astype(np.float16).astype(np.float32)
            assert np.abs(back - ref).max() <= np.abs(ref).max() / 127
        else:
            assert t.ttype == wm.expected_tensors(hp)[name][1]
    assert read[-1].offset + read[-1].size == len(b)
    # A quantised file is not quantised again; a truncated one is refused.
    with pytest.raises(wm.ConvertError, match="not an f16"):
        wm.quantize_ggml(b, "q8_0", wm.HashingWriter(io.BytesIO()))
    with pytest.raises(wm.ConvertError, match="truncated"):
        wm.read_ggml(f16.getvalue()[:-10])
