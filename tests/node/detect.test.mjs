import { test } from 'node:test'
import assert from 'node:assert/strict'
import { vap } from './helpers.mjs'

function signal(seed, levels, len) {
  let s = seed
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647)
  const out = []
  for (const l of levels) for (let i = 0; i < len; i++) out.push(l + (rand() - 0.5))
  return out
}

test('pelt, dynp and binseg find the shifts; pelt is the optimum', () => {
  const x = signal(7, [0, 6, -3], 40)
  for (const f of [vap.pelt, vap.dynp, vap.binseg]) {
    assert.deepEqual(f(x).breakpoints, [40, 80, 120])
  }
  const typed = Float64Array.from(x)
  const a = vap.pelt(typed, { penalty: 2, minSize: 5 })
  const b = vap.dynp(typed, { penalty: 2, minSize: 5 })
  assert.ok(Math.abs(a.penalizedCost - b.penalizedCost) < 1e-9)
  assert.deepEqual(a.breakpoints, b.breakpoints)
  const counts = [...Array(100).fill(1), ...Array(100).fill(6)]
  assert.deepEqual(vap.pelt(counts, { cost: 'poisson' }).breakpoints, [100, 200])
  assert.throws(() => vap.pelt([1, NaN]), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => vap.pelt(x, { cost: 'cauchy' }), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => vap.pelt(x, { penalty: 'aic' }), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => vap.pelt('nope'), { code: 'VAP_INVALID_ARGUMENT' })
})

test('moments of a synthetic room: ranked, typed, with drivers', () => {
  const { data, truth } = vap.simulate({ seed: 4 })
  const moments = data.moments()
  assert.ok(moments.length > 0)
  for (let i = 1; i < moments.length; i++) assert.ok(moments[i - 1].share >= moments[i].share)
  const gmv = vap.topMoments(moments, 3, 'order_gmv')
  assert.ok(gmv.every((m) => m.metric === 'order_gmv'))
  for (let i = 1; i < gmv.length; i++) assert.ok(Math.abs(gmv[i - 1].magnitude) >= Math.abs(gmv[i].magnitude))
  for (const m of moments) assert.equal(m.baseline.length, (m.endMs - m.startMs) / 30000)
  // the viewer gauge is scanned: each planted stall is a traffic drop on it
  const stalls = truth.moments.filter((p) => p.cause === 'stream_stall')
  assert.ok(stalls.length > 0)
  for (const p of stalls) {
    const hit = moments.find((m) => m.metric === 'online_viewers' && m.kind === 'drop' && m.startMs < p.endMs && p.startMs < m.endMs)
    assert.ok(hit, `stall at ${p.startMs}`)
    assert.equal(hit.driver, 'traffic')
    assert.ok(hit.moved.some((s) => s.metric === 'online_viewers' && s.change < -0.2))
  }
  const events = vap.momentEvents(moments)
  for (const p of truth.moments.filter((p) => p.cause === 'flash_sale')) {
    const near = events.filter((e) => Math.abs(e.startMs - p.startMs) <= 60000)
    assert.ok(near.length > 0, `flash sale at ${p.startMs}`)
    assert.equal(near[0].driver, 'conversion')
  }
  assert.throws(() => data.moments({ threshold: -1 }), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => data.moments({ colour: 'red' }), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => data.moments({ metrics: ['nope'] }), { code: 'VAP_NOT_FOUND' })
})
