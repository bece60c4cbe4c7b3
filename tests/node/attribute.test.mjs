import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { vap } from './helpers.mjs'

function room(seed, extra = {}) {
  const r = vap.simulate({ seed, hours: 1.5, entriesPerSecond: 40, ...extra })
  return r.data.applyOffset(r.data.estimateTranscriptOffset())
}

const close = (a, b, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b))

test('a session decomposes exactly: per bin, in totals and per moment', () => {
  const s = room(3)
  const fit = s.attribute({ timeline: { step: '30s' }, bootstrap: 20, seed: 2 })
  const d = fit.decomposition
  assert.equal(d.target, 'order_gmv')
  const pred = d.column('prediction')
  const sum = Float64Array.from(d.column('baseline'))
  const traffic = d.column('traffic')
  for (let i = 0; i < sum.length; i++) sum[i] += traffic[i]
  for (const f of d.factors) {
    const c = d.column(f)
    for (let i = 0; i < sum.length; i++) sum[i] += c[i]
  }
  let checked = 0
  for (let i = 0; i < pred.length; i++) {
    if (Number.isNaN(pred[i])) continue
    assert.ok(close(sum[i], pred[i]), `bin ${i}`)
    checked++
  }
  assert.ok(checked > 100)
  const totals = d.totals()
  assert.equal(totals.at(-1).name, 'unexplained')
  const actual = d.column('actual').reduce((a, v, i) => (Number.isNaN(pred[i]) ? a : a + v), 0)
  assert.ok(close(totals.reduce((a, p) => a + p.value, 0), actual))
  const coefs = fit.coefficients
  assert.equal(coefs[0].name, 'base')
  for (const c of coefs.filter((c) => c.name.startsWith('promo:'))) assert.ok(c.value >= 0)
  assert.ok(fit.diagnostics.r2 > 0.1 && fit.cv.length === 30 && fit.penalty > 0)
  const moments = s.moments().filter((m) => m.metric === 'order_gmv')
  assert.ok(moments.length > 0)
  for (const m of moments) {
    const a = d.moment(m)
    assert.ok(close(a.parts.reduce((x, p) => x + p.value, 0), a.excess, 1e-9))
    assert.equal(a.parts.at(-1).name, 'unexplained')
  }
  const w = d.window(moments[0].startMs, moments[0].endMs, { window: '10min' })
  assert.equal(w.referenceMs[1] - w.endMs, 300000)
  assert.ok(d.totalsByAnchor([s]).length >= 1)
  assert.ok(d.totalsByProduct([s]).length > 3)
  assert.ok(d.totalsByShift([s]).every((g) => /^a\d@\d+$/.test(g.label) && g.bins > 0))
  assert.throws(() => d.column('nope'), { code: 'VAP_INVALID_ARGUMENT' })
})

test('estimators match on a design of your own; errors list every problem', () => {
  let seed = 5
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
  const n = 400
  const x0 = Float64Array.from({ length: n }, () => rand() * 4)
  const x1 = Float64Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0))
  const y = Float64Array.from({ length: n }, (_, i) => 2 + 1.5 * x0[i] - 3 * x1[i] + (rand() - 0.5))
  const tl = vap.timelineFromColumns({ y, x0, x1 }, { step: '1s' })
  const base = { target: 'y', form: 'linear', exposure: null, factors: ['x0', 'x1'], bootstrap: 0 }
  const ols = vap.attribute(tl, { ...base, estimator: 'ols' })
  const v = ols.coefficients.map((c) => c.value)
  assert.ok(Math.abs(v[1] - 1.5) < 0.1 && Math.abs(v[2] + 3) < 0.2, String(v))
  assert.ok(ols.coefficients.every((c) => c.stdError > 0 && c.ciLow < c.value && c.value < c.ciHigh))
  // A sign constraint binds; an unbinding one changes nothing.
  const pos = vap.attribute(tl, { ...base, estimator: 'ols', factors: ['x0', { column: 'x1', sign: 'positive' }] })
  assert.equal(pos.coefficients[2].value, 0)
  const ridge0 = vap.attribute(tl, { ...base, penalty: 0, standardize: false })
  assert.ok(ridge0.coefficients.every((c, i) => close(c.value, v[i], 1e-7)))
  tl.addColumn('x2', x0.map((a) => a * a))
  assert.ok(tl.columns.includes('x2'))
  assert.throws(
    () => vap.attribute(tl, { target: 'nope', factors: ['missing:col'], exposure: 'viewers' }),
    (e) => e.code === 'VAP_INVALID_ARGUMENT' && /'nope'/.test(e.message) && /'missing:col'/.test(e.message) && /'viewers'/.test(e.message),
  )
  assert.throws(() => vap.attribute(tl, { form: 'tobit' }), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => vap.attribute(tl, { unknownOption: 1 }), { code: 'VAP_INVALID_ARGUMENT' })
})

test('the room model is fitted over stored sessions, saved and applied to a new one', async () => {
  const store = new vap.Store(mkdtempSync(join(tmpdir(), 'vap-attr-')))
  const sessions = [0, 1, 2, 3].map((k) =>
    room(70 + k, { sessionId: `d${k}`, startMs: 1795608000000 + k * 86400000, hours: 1 }),
  )
  for (const s of sessions.slice(0, 3)) store.importSession(s)
  const fit = await store.fitRoomModelAsync('sim-room', { name: 'gmv', bootstrap: 10 })
  assert.deepEqual(store.models('sim-room'), ['gmv'])
  assert.equal(fit.coefficients.filter((c) => c.role === 'session').length, 2)
  const model = store.roomModel('sim-room', 'gmv')
  assert.deepEqual(model.toObject(), fit.model.toObject())
  store.saveModel(fit.model, 'copy')
  assert.deepEqual(store.models('sim-room'), ['copy', 'gmv'])
  const again = vap.RoomModel.fromJson(model.toJsonString())
  const d = again.apply(sessions[3].attributionTimeline())
  assert.equal(d.length, 360)
  const pred = d.column('prediction')
  const parts = d.totals()
  const total = pred.reduce((a, v) => (Number.isNaN(v) ? a : a + v), 0)
  assert.ok(close(parts.filter((p) => p.name !== 'unexplained').reduce((a, p) => a + p.value, 0), total))
  assert.throws(() => store.roomModel('sim-room', 'nope'), { code: 'VAP_NOT_FOUND' })
  assert.throws(() => model.apply(sessions[3].attributionTimeline({ step: '30s' })), { code: 'VAP_INVALID_ARGUMENT' })
  const a = await vap.attributeAsync(sessions[3].attributionTimeline(), { bootstrap: 5, seed: 1 })
  const b = vap.attribute(sessions[3].attributionTimeline(), { bootstrap: 5, seed: 1 })
  assert.deepEqual(a.coefficients, b.coefficients)
  const defaults = vap.defaultFactors(sessions[3].attributionTimeline())
  assert.ok(defaults.some((f) => f.column === 'answers' && f.carryoverKind === 'hold'))
  assert.ok(defaults.some((f) => f.column === 'speech:urgency' && f.saturation === 'auto'))
})

test('forms are chosen by cross-validation; confounded factors are reported', () => {
  let seed = 11
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
  const n = 1500
  const x = Float64Array.from({ length: n }, () => (rand() < 0.08 ? 1 + Math.floor(rand() * 4) : 0))
  const held = x.map((_, t) => x.slice(Math.max(0, t - 5), t + 1).reduce((a, v) => a + v, 0))
  const y = held.map((h) => 20 + 3 * h + (rand() - 0.5) * 2)
  const twin = x.map((v) => v + (rand() - 0.5) * 0.1)
  const tl = vap.timelineFromColumns({ y, x, twin }, { step: '10s' })
  const base = { target: 'y', form: 'linear', exposure: null, bootstrap: 0 }
  const fit = vap.attribute(tl, { ...base, factors: [{ column: 'x', carryover: ['0s', '30s', '60s', '120s'], carryoverKind: 'auto', saturation: 'auto' }] })
  const c = fit.coefficients.find((k) => k.name === 'x')
  assert.deepEqual([c.carryoverKind, c.halfLifeMs, c.saturation], ['hold', 60000, null])
  assert.deepEqual(fit.diagnostics.confounded, [])
  const both = vap.attribute(tl, { ...base, factors: ['x', 'twin'] })
  assert.equal(both.diagnostics.confounded.length, 1)
  const [pair] = both.diagnostics.confounded
  assert.deepEqual([pair.a, pair.b], ['x', 'twin'])
  assert.ok(pair.correlation > 0.99)
  assert.ok(both.diagnostics.warnings.some((w) => w.includes('x and twin move together')))
  assert.throws(() => vap.attribute(tl, { ...base, factors: [{ column: 'x', saturation: 'maybe' }] }), { code: 'VAP_INVALID_ARGUMENT' })
})

test("form 'auto' (the default) fits the exposure form or the log link by cross-validation", () => {
  let seed = 9
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
  const n = 1500
  const e = Float64Array.from({ length: n }, () => 500 + 2500 * rand())
  const blocks = () => {
    let on = 0
    return Float64Array.from({ length: n }, (_, i) => {
      if (i % 6 === 0) on = rand() < 0.4 ? 1 : 0
      return on
    })
  }
  const x1 = blocks()
  const x2 = blocks()
  // Poisson draws by inversion (means up to ~330: sum of exponential gaps)
  const poisson = (mu) => {
    let k = 0
    let t = -Math.log(rand())
    while (t < mu) {
      k += 1
      t -= Math.log(rand())
    }
    return k
  }
  const yAdd = Float64Array.from({ length: n }, (_, i) => Math.max(0, e[i] * (0.01 + 0.02 * x1[i] + 0.02 * x2[i]) + 4 * (rand() - 0.5)))
  const yMul = Float64Array.from({ length: n }, (_, i) => poisson(e[i] * 0.01 * Math.exp(1.2 * x1[i] + 1.2 * x2[i])))
  const tl = vap.timelineFromColumns({ yAdd, yMul, e, x1, x2 }, { step: '10s' })
  const base = { exposure: 'e', factors: ['x1', 'x2'], bootstrap: 0 }
  for (const [target, want, other] of [['yAdd', 'exposure', 'log_link'], ['yMul', 'log_link', 'exposure']]) {
    const fit = vap.attribute(tl, { ...base, target })
    const d = fit.diagnostics
    const scores = Object.fromEntries(d.formCv)
    assert.equal(d.form, want, JSON.stringify(scores))
    assert.ok(scores[want] < scores[other], JSON.stringify(scores))
    const given = vap.attribute(tl, { ...base, target, form: want })
    assert.equal(given.diagnostics.form, want)
    assert.deepEqual(given.diagnostics.formCv, [])
    fit.coefficients.forEach((c, i) => assert.ok(close(c.value, given.coefficients[i].value, 1e-9)))
  }
})

test('a multiplicative effect linear in the phrases gets the log curve under the log link', () => {
  let seed = 17
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647)
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand())
  const n = 2000
  const e = Float64Array.from({ length: n }, () => 500 + 2500 * rand())
  const x = new Float64Array(n)
  for (let i = 0; i < n;) {
    i += 30 + Math.floor(rand() * 60)
    for (let b = i; b < Math.min(i + 12, n); b++) x[b] = Math.floor(rand() * 5)
    i += 12
  }
  const u = x.map((_, t) => x.slice(Math.max(0, t - 5), t + 1).reduce((a, v) => a + v, 0))
  const kappa = 8 / Math.max(...u)
  const mu = u.map((v, t) => e[t] * 0.02 * (1 + kappa * v))
  const y = mu.map((m) => Math.max(0, Math.round(m + Math.sqrt(m) * gauss())))
  const truth = u.reduce((a, v, t) => a + e[t] * 0.02 * kappa * v, 0)
  const tl = vap.timelineFromColumns({ y, e, x }, { step: '10s' })
  const base = { target: 'y', exposure: 'e', form: 'log_link', bootstrap: 0 }
  const factor = { column: 'x', carryover: ['0s', '30s', '60s', '120s'], carryoverKind: 'hold' }
  const total = (fit) => fit.decomposition.totals().find((p) => p.name === 'x').value
  const auto = vap.attribute(tl, { ...base, factors: [{ ...factor, saturation: 'auto' }] })
  const linear = vap.attribute(tl, { ...base, factors: [factor] })
  const c = auto.coefficients.find((k) => k.name === 'x')
  assert.equal(c.saturation.curve, 'log')
  assert.equal(c.halfLifeMs, 60000)
  const err = Math.abs(total(auto) / truth - 1)
  assert.ok(err < 0.05, `${err}`)
  assert.ok(Math.abs(total(linear) / truth - 1) > 2 * err)
  // given outright, and read back from the saved model
  const given = vap.attribute(tl, { ...base, factors: [{ column: 'x', carryover: '60s', carryoverKind: 'hold', saturation: ['log', c.saturation.inflexion] }] })
  assert.deepEqual(given.coefficients.find((k) => k.name === 'x').saturation, c.saturation)
  assert.equal(JSON.parse(auto.model.toJsonString()).factors[0].saturation_curve, 'log')
  const again = vap.RoomModel.fromJson(auto.model.toJsonString()).apply(tl).column('prediction')
  const fitted = auto.decomposition.column('prediction')
  again.forEach((v, i) => assert.ok((Number.isNaN(v) && Number.isNaN(fitted[i])) || Math.abs(v - fitted[i]) <= 1e-9 * Math.max(1, Math.abs(fitted[i])), `${i}`))
  for (const bad of [['log', 0], ['exp', 1]]) {
    assert.throws(() => vap.attribute(tl, { ...base, factors: [{ column: 'x', saturation: bad }] }), { code: 'VAP_INVALID_ARGUMENT' })
  }
})
