import { test } from 'node:test'
import assert from 'node:assert/strict'
import { vap, SMALL, tablesJson, assertVapError, assertRejects } from './helpers.mjs'

test('the same seed gives identical tables', () => {
  const a = vap.simulate(SMALL)
  const b = vap.simulate(SMALL)
  assert.deepEqual(tablesJson(a.data), tablesJson(b.data))
  assert.deepEqual(a.truth, b.truth)
  assert.ok(a.data.numRows('orders') > 0, 'the simulation produced orders')
  assert.ok(a.data.numRows('comments') > 0, 'the simulation produced comments')
})

test('a different seed gives different tables', () => {
  const a = vap.simulate(SMALL)
  const b = vap.simulate({ ...SMALL, seed: 8 })
  assert.notDeepEqual(tablesJson(a.data).orders, tablesJson(b.data).orders)
  assert.equal(b.data.session.id, 'sim-8')
})

test('results are bitwise identical on 1 and 2 threads', (t) => {
  t.after(() => vap.setNumThreads(0))
  vap.setNumThreads(1)
  const one = vap.simulate(SMALL)
  vap.setNumThreads(2)
  const two = vap.simulate(SMALL)
  const a = tablesJson(one.data)
  const b = tablesJson(two.data)
  for (const name of vap.TABLE_NAMES) assert.equal(a[name], b[name], `table ${name}`)
  assert.equal(JSON.stringify(one.truth), JSON.stringify(two.truth))
})

test('config fields map onto the core config', () => {
  const { data, truth } = vap.simulate({
    ...SMALL,
    roomId: 'room-x',
    sessionId: 'day-1',
    startMs: 1_700_000_000_000,
    clockOffsetMs: 1234,
    anchors: 3,
    products: 5,
  })
  assert.equal(data.room.id, 'room-x')
  assert.equal(data.session.id, 'day-1')
  assert.equal(data.session.roomId, 'room-x')
  assert.equal(data.session.startMs, 1_700_000_000_000)
  assert.equal(data.session.endMs - data.session.startMs, 30 * 60 * 1000)
  assert.equal(data.numRows('anchors'), 3)
  assert.equal(data.numRows('products'), 5)
  assert.equal(truth.clockOffsetMs, 1234)
})

test('truth carries factors, moments and per-second series', () => {
  const { data, truth } = vap.simulate(SMALL)
  assert.ok(truth.factors.length > 0)
  assert.equal(truth.series.stepMs, 1000)
  assert.equal(truth.series.startMs, data.session.startMs)
  assert.equal(truth.series.baseline.length, 1800)
  assert.equal(truth.series.online.length, 1800)
  assert.equal(truth.series.factors.length, truth.factors.length)
  for (const f of truth.series.factors) assert.equal(f.length, 1800)
  for (const m of truth.moments) assert.ok(['traffic', 'conversion'].includes(m.driver))
})

test('summary, gmv and row accessors agree', () => {
  const { data } = vap.simulate(SMALL)
  const s = data.summary()
  const orders = data.table('orders')
  const gross = orders.filter((o) => o.status === 'paid').reduce((x, o) => x + o.amount, 0)
  assert.ok(Math.abs(data.gmv().gross - gross) < 1e-6 * Math.max(1, gross))
  assert.deepEqual(s.gmv, data.gmv())
  assert.equal(s.comments, data.numRows('comments'))
  assert.equal(s.roomId, data.room.id)
  for (const o of orders) assert.ok(Number.isInteger(o.ts_ms), 'times are integer ms')
  // toJSON is the core's canonical form: the tables' column names
  const whole = JSON.parse(JSON.stringify(data))
  assert.equal(whole.orders.length, orders.length)
  assert.deepEqual(whole.orders[0], orders[0])
  assert.deepEqual(whole.room, data.room)
  assert.equal(whole.session.start_ms, data.session.startMs)
})

test('bad configs are refused with VAP_INVALID_ARGUMENT', () => {
  assertVapError(() => vap.simulate({ hours: 0 }), 'VAP_INVALID_ARGUMENT')
  const e = assertVapError(() => vap.simulate({ seeed: 1 }), 'VAP_INVALID_ARGUMENT')
  assert.match(e.message, /seeed/)
  assertVapError(() => vap.simulate({ seed: 'x' }), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.simulate({ roomId: '../x' }), 'VAP_INVALID_ARGUMENT')
})

test('simulateAsync resolves to the same room as simulate', async () => {
  const sync = vap.simulate(SMALL)
  const res = await vap.simulateAsync(SMALL)
  assert.ok(res.data instanceof vap.Session)
  assert.deepEqual(tablesJson(res.data), tablesJson(sync.data))
  assert.deepEqual(res.truth, sync.truth)
})

test('simulateAsync rejects bad configs with the error code', async () => {
  await assertRejects(vap.simulateAsync({ hours: -1 }), 'VAP_INVALID_ARGUMENT')
  await assertRejects(vap.simulateAsync({ nope: true }), 'VAP_INVALID_ARGUMENT')
})

test('the addon does not ask for huge pages', async (t) => {
  const { readFileSync } = await import('node:fs')
  const { execFileSync } = await import('node:child_process')
  let mode = null
  try {
    mode = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1]
  } catch {}
  if (mode !== 'madvise') {
    t.skip('huge pages are granted on request only where the system\'s mode is madvise')
    return
  }
  // A fresh process: the addon turns mimalloc's transparent huge pages off
  // when it loads (README, Building notes); none are then mapped.
  const root = new URL('../../', import.meta.url).pathname
  const code = `const vap = require(${JSON.stringify(root)}); vap.simulate({ seed: 1, hours: 6 });
    const l = require('fs').readFileSync('/proc/self/smaps_rollup', 'utf8').split('\\n').find((x) => x.startsWith('AnonHugePages'));
    console.log(l.split(/\\s+/)[1])`
  const env = { ...process.env }
  delete env.MIMALLOC_ALLOW_THP
  const out = execFileSync(process.execPath, ['-e', code], { env, encoding: 'utf8' })
  assert.equal(Number(out.trim()), 0)
})
