"""Peak resident memory of loading one large comments CSV, vap against pandas
and polars reading the same file, each in its own fresh process, as a
multiple of the file's size.

The session directory holds a manifest, products, anchors and a comments CSV
of ``rows`` rows (3.5 M by default: about 200 MB). vap parses times,
normalises text and validates every row; pandas and polars only parse. The
baseline (the interpreter with vap / pandas / polars imported) is measured
separately and reported.

    .venv/bin/python benches/memory_peers.py [rows] [repeats]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

T0 = 1_795_608_000_000

LOADERS = {
    "baseline (import vap)": "import vap",
    "vap.load_dir": "import vap; s = vap.load_dir({dir!r}); assert s.num_rows('comments') == {rows}",
    "pandas.read_csv": "import pandas as pd; assert len(pd.read_csv({csv!r})) == {rows}",
    "polars.read_csv": "import polars as pl; assert pl.read_csv({csv!r}).height == {rows}",
}

PHRASES = [
    "多少钱",
    "有没有大码",
    "how much",
    "主播好美",
    "链接在哪",
    "已拍",
    "发货快吗",
    "这个颜色好看",
]


def write_session(dir_: Path, rows: int) -> Path:
    dir_.mkdir(parents=True, exist_ok=True)
    hours = 12
    manifest = {
        "vap_format": 1,
        "room": {"id": "mem", "name": "内存"},
        "session": {"id": "s", "start_ms": T0, "end_ms": T0 + hours * 3_600_000},
    }
    (dir_ / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (dir_ / "anchors.csv").write_text("id,name\na1,小美\n", encoding="utf-8")
    (dir_ / "products.csv").write_text("id,name,price\np1,小黑瓶,199\n", encoding="utf-8")
    step = hours * 3_600_000 // rows
    with open(dir_ / "comments.csv", "w", encoding="utf-8") as f:
        f.write("ts_ms,viewer_id,text\n")
        for i in range(rows):
            f.write(f"{T0 + i * step},viewer-{i * 7919 % 500_000},{PHRASES[i % 8]} 第{i}条评论\n")
    return dir_ / "comments.csv"


def peak_mb(code: str) -> float:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            code + "\nimport resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.split()[-1]) / 1024  # KiB on Linux


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 3_500_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        dir_ = Path(tmp) / "session"
        csv = write_session(dir_, rows)
        size_mb = os.path.getsize(csv) / 2**20
        print(f"comments.csv: {rows} rows, {size_mb:.0f} MiB; peak RSS, median of {repeats}")
        base = None
        for name, code in LOADERS.items():
            code = code.format(dir=str(dir_), csv=str(csv), rows=rows)
            peak = statistics.median(peak_mb(code) for _ in range(repeats))
            if base is None:
                base = peak
                print(f"  {name:24s} {peak:8.0f} MiB")
                continue
            print(
                f"  {name:24s} {peak:8.0f} MiB  {peak / size_mb:5.2f}× the file"
                f"  ({(peak - base) / size_mb:5.2f}× above the baseline)"
            )


if __name__ == "__main__":
    main()
