import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { vap, tempDir, assertVapError, assertRejects } from './helpers.mjs'

const QUICK = { model: { bootstrap: 20, seed: 1 } }

let cached
function room() {
  cached ??= vap.simulate({ seed: 21, hours: 1.5 })
  return cached
}

/** A run-sheet (row objects, offsets from the start) that says what happened. */
function asItRan(s) {
  const t0 = s.session.startMs
  const off = (ms) => `+${Math.floor((ms - t0) / 1000)}s`
  const rows = []
  for (const r of s.table('shifts')) {
    if (r.role === 'host') rows.push({ 类型: '主播', 开始时间: off(r.start_ms), 结束时间: off(r.end_ms), 主播: r.anchor_id })
  }
  for (const r of s.table('segments')) {
    if (r.kind === 'explain') rows.push({ 类型: '商品', 开始时间: off(r.start_ms), 结束时间: off(r.end_ms), 商品: r.product_id })
  }
  for (const r of s.table('promotions')) {
    rows.push({ 类型: r.kind, 开始时间: off(r.start_ms), 结束时间: off(r.end_ms), 商品: r.product_id ?? null })
  }
  return rows
}

test('a Chinese CSV of slots, by path and as a Buffer, reads the same', (t) => {
  const s = room().data
  const [p0, p1] = s.table('products')
  const [a0] = s.table('anchors')
  const csv = `时间段,主播,商品,活动,话术\n+0:00-+0:10,${a0.name},${p0.name},,补水；到手价\n+0:10-+0:25,${a0.id},${p1.id},秒杀,\n`
  const path = join(tempDir(t), '脚本.csv')
  writeFileSync(path, csv)
  const sheet = vap.readRunSheet(path)
  const same = vap.readRunSheet(Buffer.from(csv))
  assert.deepEqual(same.items, sheet.items)
  const kinds = sheet.items.map((i) => i.kind).sort()
  assert.deepEqual(kinds, ['product', 'product', 'promotion', 'shift', 'shift'])
  assert.deepEqual(sheet.items[0].talkingPoints, ['补水', '到手价'])
  assert.deepEqual(sheet.items[0].start, { offset: 0 })
  const planned = s.withPlan(sheet)
  assert.deepEqual(planned.plan, sheet)
  assert.equal(s.plan, null)
  // The CSV form reads back to the same comparison.
  const back = vap.readRunSheet(Buffer.from(vap.runSheetToCsv(sheet)))
  const strip = (r) => r.items.map((d) => [d.kind, d.status, d.subject, d.planned, d.actual])
  assert.deepEqual(strip(s.withPlan(back).planVsActual({ attribute: false })), strip(planned.planVsActual({ attribute: false })))
})

test('every problem at once, typed', () => {
  const csv = 'kind,start,duration,anchor,product,promotion\nproduct,20:00,10,,,\nshift,soon,,a1,,\nteleport,20:40,5,,,\n'
  const e = assertVapError(() => vap.readRunSheet(Buffer.from(csv)), 'VAP_VALIDATION')
  assert.deepEqual(
    e.problems.map((p) => [p.row, p.field]),
    [
      [1, 'product'],
      [2, 'start'],
      [3, 'kind'],
    ],
  )
  assertVapError(() => vap.readRunSheet(Buffer.from(csv), { timezone: 'Mars/Base' }), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.readRunSheet(42), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => room().data.planVsActual(), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.resolveOptions('plan', { tolerence: '1min' }), 'VAP_INVALID_ARGUMENT')
  assert.equal(vap.resolveOptions('plan', { tolerance: '5min' }).toleranceMs, 300_000)
})

test('deviations match the session tables', () => {
  const s = room().data
  const t0 = s.session.startMs
  const rows = asItRan(s)
  const explains = s.table('segments').filter((r) => r.kind === 'explain')
  const moved = explains[2]
  const key = (ms) => `+${Math.floor((ms - t0) / 1000)}s`
  for (const r of rows) {
    if (r.类型 === '商品' && r.开始时间 === key(moved.start_ms)) {
      r.开始时间 = key(moved.start_ms - 420_000)
      r.结束时间 = key(moved.end_ms - 420_000)
    }
  }
  const dropped = explains[4]
  const kept = rows.filter((r) => !(r.类型 === '商品' && r.开始时间 === key(dropped.start_ms)))
  const review = s.withPlan(vap.readRunSheet(kept)).planVsActual({ attribute: false })
  const by = (st) => review.items.filter((d) => d.status === st)
  assert.equal(by('late').length, 1)
  assert.equal(by('late')[0].subject, moved.product_id)
  assert.equal(by('late')[0].startDeltaMs, 420_000)
  assert.deepEqual(by('late')[0].actual, [moved.start_ms, moved.end_ms])
  assert.deepEqual(
    by('added').map((d) => d.subject),
    [dropped.product_id],
  )
  assert.equal(review.offPlan, 1)
  assert.equal(review.effectTotal, null)
})

test('the deviations are valued, sync and async alike, and the replay and store carry the plan', async (t) => {
  const s = room().data
  const rows = asItRan(s).filter((r) => r.类型 !== 'flash_sale')
  const planned = s.withPlan(vap.readRunSheet(rows))
  const review = planned.planVsActual(QUICK)
  const added = review.items.filter((d) => d.status === 'added')
  assert.ok(added.length >= 1)
  for (const d of added) {
    assert.equal(d.kind, 'promotion')
    assert.ok(d.effect.low <= d.effect.value && d.effect.value <= d.effect.high)
  }
  assert.equal(review.target, 'order_gmv')
  const again = await planned.planVsActualAsync(QUICK)
  assert.deepEqual(again, review)
  await assertRejects(planned.planVsActualAsync({ tolerance: -1 }), 'VAP_INVALID_ARGUMENT')
  const rep = planned.replay(QUICK)
  const data = rep.toJSON()
  assert.equal(data.plan.added, review.added)
  assert.deepEqual(
    data.plan.items.map((d) => d.effect?.value ?? null),
    review.items.map((d) => d.effect?.value ?? null),
  )
  assert.equal(rep.table('plan').length, review.items.length)
  assert.ok('plan' in rep.view('fieldControl'))
  assert.match(rep.toHtml(), /id="plan"/)
  const store = new vap.Store(join(tempDir(t, 'vap-store-'), 'store'))
  store.importSession(planned)
  const stored = store.load(planned.room.id, planned.session.id)
  assert.deepEqual(stored.plan, planned.plan)
  assert.equal(planned.withPlan(null).plan, null)
})

function history(planted, n = 6) {
  const extra = planted ? { anchorCategoryEffects: [{ anchor: 'a2', category: '美妆', effect: 3 }], lateFlashEffect: 6 } : {}
  return Array.from({ length: n }, (_, k) =>
    vap.simulate({ seed: 100 + k, hours: 3, entriesPerSecond: 40, anchors: 3, products: 20, sessionId: `day-${k}`, start: 1_795_608_000_000 + k * 86_400_000, ...extra }).data,
  )
}

test('the playbook finds what was planted, sync, async and from the store alike', async (t) => {
  const h = history(true)
  const pb = vap.playbook(h, { model: { bootstrap: 100 } })
  const top = pb.anchors[0]
  assert.deepEqual([top.anchorId, top.category, top.evidence.weak], ['a2', '美妆', false])
  assert.deepEqual(new Set(pb.recommendations.filter((r) => !r.weak).map((r) => r.kind)), new Set(['anchor_category', 'flash_timing']))
  assert.ok(pb.flashSales.difference.value > 0)
  const withPhrases = pb.products.filter((p) => p.phrases.length > 0)
  assert.ok(withPhrases.length > 0)
  for (const p of withPhrases) assert.ok(p.phrases.every((f) => f.uses >= 1 && f.sessions <= p.sessions))
  assert.match(vap.playbookHtml(pb, { lang: 'en' }), /should host 美妆/)
  assert.match(vap.playbookHtml(pb), /更适合讲 美妆/)
  const again = await vap.playbookAsync(h, { model: { bootstrap: 100 } })
  assert.deepEqual(again, pb)
  const back = vap.readRunSheet(Buffer.from(vap.runSheetToCsv(pb.draft)))
  assert.equal(back.items.length, pb.draft.items.length)
  const store = new vap.Store(join(tempDir(t, 'vap-store-'), 'store'))
  for (const s of h) store.importSession(s)
  const stored = await store.playbookAsync(h[0].room.id, { model: { bootstrap: 100 } })
  assert.deepEqual(
    stored.anchors.map((a) => [a.anchorId, a.category]),
    pb.anchors.map((a) => [a.anchorId, a.category]),
  )
  for (const [a, b] of stored.anchors.map((a, i) => [a, pb.anchors[i]])) {
    assert.ok(Math.abs(a.evidence.value - b.evidence.value) <= 1e-9 * Math.abs(b.evidence.value) + 1e-9)
  }
})

test('the playbook says when the evidence is thin', async () => {
  const pb = vap.playbook(history(false), { model: { bootstrap: 100 } })
  assert.equal(pb.recommendations[0].kind, 'not_enough_evidence')
  assert.equal(pb.recommendations.filter((r) => !r.weak).length, 0)
  assertVapError(() => vap.playbook(history(false, 1)), 'VAP_INVALID_ARGUMENT')
  await assertRejects(vap.playbookAsync(history(false, 2), { minSessions: 0 }), 'VAP_INVALID_ARGUMENT')
})
