"""Quickstart: a synthetic room into the embedded store, back out as DataFrames.

Run with ``.venv/bin/python examples/python/quickstart.py`` after ``make setup``.
"""

from __future__ import annotations

import tempfile

import vap


def main() -> None:
    room = vap.simulate(seed=42, hours=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        store = vap.Store(f"{tmp}/store")
        store.import_session(room.data)
        (info,) = store.sessions()
        session = store.load(info["room_id"], info["session_id"])
        orders = session.to_pandas("orders")
        paid = orders[orders.status == "paid"]
        per_product = paid.groupby("product_id")["amount"].sum().nlargest(3)
        s = session.summary()
        print(f"python: {info['room_id']}/{info['session_id']}: gross GMV {s['gmv']['gross']:.0f}")
        print(f"python: top products by GMV (pandas): {per_product.round().to_dict()}")
        comments = session.to_polars("comments")
        print(f"python: {comments.height} comments from {comments['viewer_id'].n_unique()} viewers")


if __name__ == "__main__":
    main()
