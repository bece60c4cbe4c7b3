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

        # The timeline: the transcript put on the platform clock (explicitly),
        # then every stream on one 1-minute grid, as a pandas DataFrame.
        offset = session.estimate_transcript_offset()
        if offset.determined:
            session = offset.apply(session)
        print(f"python: transcript offset {offset.offset_ms} ms ({offset.status})")
        tl = session.timeline("1min")
        tl.adstock("speech:urgency", half_life_bins=2, name="urgency_carryover")
        df = tl.to_pandas()
        top = df.nlargest(3, "order_gmv")[["order_gmv", "gpm", "explain:any", "urgency_carryover"]]
        print(f"python: timeline {df.shape}; top minutes by GMV:\n{top.round(2)}")

        # Attribution: one model of the session; every moment split into causes.
        fit = session.attribute("10s", bootstrap=50)
        totals = fit.decomposition.totals_frame().set_index("name")["value"]
        print(f"python: attribution R² {fit.diagnostics.r2:.2f}; totals:\n{totals.round(0)}")
        gmv_moments = [m for m in session.moments() if m.metric == "order_gmv"][:2]
        for a in fit.decomposition.moments(gmv_moments):
            parts = ", ".join(f"{p.name} {p.value:+.0f}" for p in a.parts[:3])
            print(f"python: moment {a.excess:+.0f} yuan: {parts}, ...")

        # The replay (直播复盘): data quality first, the headline, the top
        # moments with their causes; every table as a DataFrame.
        store.import_session(session, replace=True)
        r = store.replay(info["room_id"], info["session_id"], model={"bootstrap": 50})
        for note in r.quality.notes:
            print(f"python: data quality: {note.message}")
        for key in ("gmv_gross", "gpm", "answered_share"):
            f = r.figure(key)
            print(f"python: {f.label} ({f.label_en}): {f.value} [{f.source}]")
        if r.moments:
            m = r.moments[0]
            parts = ", ".join(f"{p.name} {p.value:+.0f}" for p in m.parts[:3])
            print(f"python: top moment {m.kind} on {m.metric}: {parts}")
        print(f"python: products table {r.to_pandas('products').shape}")

        # The plan (直播脚本): a run-sheet as operators write it, against what ran,
        # each deviation valued by the attribution model.
        t0 = session.session["start_ms"]
        explains = session.to_pandas("segments").query("kind == 'explain'").head(3)
        sheet = vap.read_run_sheet(
            [
                {
                    "类型": "商品",
                    "开始时间": f"+{(int(x.start_ms.timestamp() * 1000) - t0) // 60_000 + 3}min",
                    "时长": 6,
                    "商品": x.product_id,
                }
                for x in explains.itertuples()
            ]
        )
        review = session.with_plan(sheet).plan_vs_actual(model={"bootstrap": 50})
        print(f"python: plan vs actual: {review.on_plan} on plan, {review.off_plan} off plan")
        for d in review.items[:3]:
            effect = "" if d.effect is None else f", model says {d.effect.value:+.0f} yuan"
            print(f"python: {d.kind} {d.name}: {d.status}{effect}")


if __name__ == "__main__":
    main()
