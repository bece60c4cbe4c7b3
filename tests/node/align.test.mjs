import { test } from 'node:test'
import assert from 'node:assert/strict'
import { vap, SMALL, tempDir } from './helpers.mjs'

const T0 = 1_795_608_000_000

function tiny({ orders = [], viewers = [], segments = [] } = {}) {
  const manifest = {
    vap_format: 1,
    room: { id: 'acme', name: 'ACME' },
    session: { id: 's1', start_ms: T0, end_ms: T0 + 600_000, timezone: 'Asia/Shanghai' },
    metrics: [{ name: 'online_viewers', kind: 'gauge', unit: 'viewers' }],
  }
  const tables = {
    products: [{ id: 'p1', name: '小黑瓶', price: 1 }],
    orders: orders.map(([t, amount], i) => ({
      id: `o${i}`, ts_ms: T0 + t, product_id: 'p1', quantity: 1, amount, status: 'paid',
    })),
    metrics: viewers.map(([t, value]) => ({ metric: 'online_viewers', ts_ms: T0 + t, value })),
    segments: segments.map(([a, b]) => ({ product_id: 'p1', kind: 'explain', start_ms: T0 + a, end_ms: T0 + b })),
  }
  return vap.fromTables(manifest, tables)
}

test('events are summed into closed-left bins (edges, outside the grid, empty bins)', () => {
  const s = tiny({ orders: [[0, 1], [9_999, 2], [10_000, 4], [25_000, 8], [-1, 16], [30_000, 32]] })
  const tl = s.timeline({ step: '10s', start: T0, end: T0 + 30_000 })
  assert.equal(tl.length, 3)
  assert.deepEqual([...tl.column('order_gmv')], [3, 4, 8])
  assert.deepEqual([...tl.column('orders')], [2, 1, 1])
  assert.deepEqual([...tl.time()], [T0, T0 + 10_000, T0 + 20_000])
})

test('gauges: time-weighted LOCF, missing past the staleness, never a silent zero', () => {
  const s = tiny({ viewers: [[15_000, 100], [20_000, 200]], orders: [[0, 1]] })
  const tl = s.timeline({ step: 10_000, start: T0, end: T0 + 60_000, gaugeMaxStaleness: '15s' })
  const v = tl.column('online_viewers')
  const m = tl.missing('online_viewers')
  assert.ok(Number.isNaN(v[0]) && m[0] === 1)
  assert.equal(v[1], 100) // known from 15 s only: the mean of the known part
  assert.equal(v[2], 200)
  assert.equal(v[3], 200) // valid until 35 s
  assert.deepEqual([...m], [1, 0, 0, 0, 1, 1])
  const rows = tl.toObjects()
  assert.equal(rows[0].online_viewers, null)
  assert.equal(rows[1].time, T0 + 10_000)
  const info = tl.columnInfo.find((c) => c.name === 'online_viewers')
  assert.equal(info.kind, 'gauge')
  assert.equal(info.hasMissing, true)
})

test('interval fractions are the union share of each bin', () => {
  const s = tiny({ segments: [[5_000, 15_000], [10_000, 12_000], [40_000, 70_000]], orders: [[0, 1]] })
  const tl = s.timeline({ step: '10s', start: T0, end: T0 + 60_000 })
  assert.deepEqual([...tl.column('explain:p1')], [0.5, 0.5, 0, 0, 1, 1])
  assert.deepEqual([...tl.column('explain:any')], [0.5, 0.5, 0, 0, 1, 1])
})

test('a simulated session: conservation, rates, lexicon, matrix, async', async () => {
  const { data } = vap.simulate(SMALL)
  const tl = data.timeline({ step: '1min' })
  const paid = data.table('orders').filter((o) => o.status === 'paid')
  const sum = (a) => a.reduce((x, y) => x + y, 0)
  assert.equal(sum(tl.column('orders')), paid.length)
  const entries = tl.column('entries')
  const gpm = tl.column('gpm')
  const gmv = tl.column('gmv')
  for (let i = 0; i < tl.length; i++) {
    if (entries[i] === 0) assert.ok(Number.isNaN(gpm[i]))
    else assert.ok(Math.abs(gpm[i] - (1000 * gmv[i]) / entries[i]) < 1e-9)
  }
  assert.ok(tl.columns.includes('speech:urgency'))
  const m = tl.matrix(['orders', 'gmv'])
  assert.equal(m.rows, tl.length)
  assert.deepEqual([...m.data.slice(0, tl.length)], [...tl.column('orders')])
  const again = await data.timelineAsync({ step: '1min' })
  assert.deepEqual([...again.column('order_gmv')], [...tl.column('order_gmv')])
})

test('transforms: lag, adstock, hill', () => {
  const { data } = vap.simulate(SMALL)
  const tl = data.timeline({ step: '10s' })
  const x = tl.column('orders')
  const lag = tl.column(tl.derive('orders', { kind: 'lag', bins: 2 }))
  assert.ok(Number.isNaN(lag[0]) && Number.isNaN(lag[1]))
  assert.equal(lag[5], x[3])
  assert.deepEqual([...tl.missing('orders:lag').slice(0, 3)], [1, 1, 0])
  const ad = tl.column(tl.derive('orders', { kind: 'adstock', halfLifeBins: 2 }, 'ad'))
  const lam = 0.5 ** (1 / 2)
  let acc = 0
  for (let i = 0; i < x.length; i++) {
    acc = x[i] + lam * acc
    assert.ok(Math.abs(ad[i] - acc) < 1e-9)
  }
  const h = tl.column(tl.derive('orders', { kind: 'hill', slope: 1, inflexion: 0.5 }))
  assert.ok(h.every((v) => v >= 0 && v < 1))
  assert.throws(() => tl.derive('orders', { kind: 'lag', bins: 2 }), { code: 'VAP_ALREADY_EXISTS' })
  assert.throws(() => tl.derive('nope', { kind: 'lag', bins: 2 }), { code: 'VAP_NOT_FOUND' })
  assert.throws(() => tl.derive('orders', { kind: 'adstock', halfLifeBins: -1 }), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => tl.derive('orders', { kind: 'wobble' }), { code: 'VAP_INVALID_ARGUMENT' })
})

test('clock offset: recovered, applied explicitly, undetermined on noise', () => {
  const r = vap.simulate({ seed: 1, hours: 2 })
  const est = r.data.estimateTranscriptOffset()
  assert.equal(est.status, 'determined')
  assert.ok(Math.abs(est.offsetMs - r.truth.clockOffsetMs) <= est.stepMs)
  const fixed = r.data.applyOffset(est)
  assert.equal(fixed.table('utterances')[0].start_ms, r.data.table('utterances')[0].start_ms - Math.round(est.offsetMs))
  let seed = 1
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
  const a = Float64Array.from({ length: 3000 }, rand)
  const b = Float64Array.from({ length: 3000 }, rand)
  const noise = vap.estimateOffset(a, b, { step: '1s' })
  assert.equal(noise.status, 'undetermined')
  assert.equal(noise.offsetMs, null)
  assert.throws(() => r.data.applyOffset(noise), { code: 'VAP_INVALID_ARGUMENT' })
  const shifted = Array.from(a, (_, i) => a[(i + 3000 - 5) % 3000])
  const est2 = vap.estimateOffset([Array.from(a)], [shifted], { step: 1000 })
  assert.equal(est2.status, 'determined')
  assert.equal(est2.lagBins, 5)
  assert.throws(() => vap.estimateOffset(a, b, {}), { code: 'VAP_INVALID_ARGUMENT' })
})

test('room view from sessions and from the store', async (t) => {
  const sessions = [0, 1].map((k) =>
    vap.simulate({ ...SMALL, seed: 40 + k, sessionId: `s${k}`, startMs: T0 + k * 86_400_000 }).data)
  const tl = vap.roomTimeline(sessions, { step: '1min' })
  assert.equal(tl.length, 60)
  assert.deepEqual(tl.spans.map((s) => s.sessionId), ['s0', 's1'])
  const rows = tl.toObjects()
  assert.equal(rows[0].session_id, 's0')
  assert.equal(rows[59].session_id, 's1')
  const store = new vap.Store(tempDir(t))
  for (const s of sessions) store.importSession(s)
  const fromStore = store.roomTimeline(sessions[0].room.id, { step: '1min' })
  assert.deepEqual(fromStore.columns, tl.columns)
  assert.deepEqual([...fromStore.column('order_gmv')], [...tl.column('order_gmv')])
  const [a, b] = await Promise.all([
    vap.roomTimelineAsync(sessions, { step: '1min' }),
    store.roomTimelineAsync(sessions[0].room.id, { step: '1min' }),
  ])
  assert.deepEqual([...a.column('orders')], [...tl.column('orders')])
  assert.deepEqual([...b.column('orders')], [...tl.column('orders')])
  await assert.rejects(store.roomTimelineAsync('nope', { step: '1min' }), { code: 'VAP_NOT_FOUND' })
  await assert.rejects(vap.roomTimelineAsync(sessions, { step: -5 }), { code: 'VAP_INVALID_ARGUMENT' })
})

test('asofJoin: backward / forward / nearest, tolerance, by', () => {
  const left = [{ t: 5, k: 'a' }, { t: 12, k: 'a' }, { t: 12, k: 'b' }, { t: 30, k: 'a' }]
  const right = [{ t: 10, k: 'a', v: 1 }, { t: 4, k: 'a', v: 2 }, { t: 13, k: 'b', v: 3 }]
  const v = (rows) => rows.map((r) => r.v)
  assert.deepEqual(v(vap.asofJoin(left, right, { on: 't', by: 'k' })), [2, 1, null, 1])
  assert.deepEqual(v(vap.asofJoin(left, right, { on: 't', by: 'k', direction: 'forward' })), [1, null, 3, null])
  assert.deepEqual(v(vap.asofJoin(left, right, { on: 't', by: 'k', direction: 'nearest' })), [2, 1, 3, 1])
  assert.deepEqual(v(vap.asofJoin(left, right, { on: 't', by: 'k', tolerance: 3 })), [2, 1, null, null])
  assert.deepEqual(v(vap.asofJoin(left, right, { on: 't' })), [2, 1, 1, 3])
  assert.throws(() => vap.asofJoin(left, right, { on: 't', direction: 'up' }), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => vap.asofJoin(left, right, {}), { code: 'VAP_INVALID_ARGUMENT' })
})

test('lexicon: folding and counts', () => {
  assert.equal(vap.fold('限時秒殺 ＬＡＳＴ Chance'), '限时秒杀 last chance')
  assert.deepEqual(vap.lexiconCount({ urgency: ['限时', 'last chance'] }, '限時! LAST CHANCE'), { urgency: 2 })
  assert.ok(vap.builtinLexicon().urgency.includes('限时'))
  const { data } = vap.simulate(SMALL)
  const tl = data.timeline({ step: '1min', lexicon: { mine: ['多少钱'] }, productPhrases: false })
  assert.ok(tl.columns.includes('comments:mine'))
  assert.ok(!tl.columns.some((c) => c.startsWith('speech:product:')))
})

test('bad timeline options throw typed errors', () => {
  const { data } = vap.simulate(SMALL)
  for (const bad of [{ step: 0 }, { step: 'fortnightly' }, { flow: 'smeared' }, { colour: 'blue' },
    { start: T0 + 10, end: T0 }, { lexicon: { bad: [''] } }, { lexicon: { bad: 'x' } }]) {
    assert.throws(() => data.timeline(bad), { code: 'VAP_INVALID_ARGUMENT' }, JSON.stringify(bad))
  }
})
