// The room model fitted from per-session statistics (RoomPlan, RoomFit,
// Store.fitRoomModelBySessions): the stacked room's fit for the linear forms.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { vap, assertRejects } from './helpers.mjs'

let dir, store, room

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vap-plan-'))
  store = new vap.Store(join(dir, 'store'))
  for (const seed of [21, 22, 23]) store.importSession((await vap.simulateAsync({ seed, hours: 0.75 })).data)
  room = store.rooms()[0].id
})

after(() => rmSync(dir, { recursive: true, force: true }))

const OPTS = { form: 'exposure', bootstrap: 20 }

function assertSameFit(a, b) {
  const names = (f) => f.coefficients.map((c) => c.name)
  assert.deepEqual(names(a), names(b))
  const scale = Math.max(...b.coefficients.map((c) => Math.abs(c.value)))
  a.coefficients.forEach((c, i) => {
    const w = b.coefficients[i].value
    assert.ok(Math.abs(c.value - w) <= 1e-7 * scale, `${c.name}: ${c.value} vs ${w}`)
  })
  assert.equal(a.model.toObject().penalty, b.model.toObject().penalty)
}

test('the fit from per-session statistics is the stacked fit', () => {
  for (const form of ['exposure', 'linear']) {
    const stacked = store.fitRoomModel(room, { ...OPTS, form })
    const reduced = store.fitRoomModelBySessions(room, { ...OPTS, form })
    assertSameFit(reduced, stacked)
    const o = reduced.toObject()
    assert.equal(o.nBins, stacked.diagnostics.nBins)
    assert.equal(o.candidates, stacked.diagnostics.candidates)
    assert.ok(Math.abs(o.r2 - stacked.diagnostics.r2) < 1e-9)
    assert.equal(o.model, undefined)
  }
})

test('a plan by hand: summaries, JSON, buffers, any order, sync and async alike', async () => {
  const tls = store.sessions(room).map((s) => store.load(room, s.sessionId).attributionTimeline())
  const summaries = tls.map((t) => vap.RoomPlan.summarise(t, OPTS)).reverse()
  assert.ok(summaries.every((s) => typeof s === 'string'))
  const plan = vap.RoomPlan.fromJson(vap.RoomPlan.fromSummaries(summaries, OPTS).toJsonString())
  assert.deepEqual(plan.sessions, store.sessions(room).map((s) => s.sessionId))
  const grams = tls.map((t) => plan.gram(t))
  assert.ok(grams.every((g) => Buffer.isBuffer(g) && g.subarray(0, 8).toString() === 'VAPGRAM1'))
  const fit = plan.fit(grams)
  const steps = []
  const again = await plan.fitAsync([...grams].reverse(), { onProgress: (s) => steps.push(s) })
  assert.equal(again.model.toJsonString(), fit.model.toJsonString())
  assert.deepEqual(steps.at(-1), { stage: 'bootstrap', done: 20, total: 20 })
  assert.equal(fit.model.toJsonString(), store.fitRoomModelBySessions(room, OPTS).model.toJsonString())
  // the model decomposes each session as a fitted session
  assert.equal(fit.model.apply(tls[0]).length, tls[0].length)
})

test('what cannot be fitted from sums, and bad statistics, are refused', async () => {
  assert.throws(() => store.fitRoomModelBySessions(room, { form: 'log_link' }), (e) => e.code === 'VAP_INVALID_ARGUMENT' && /log link/.test(e.message))
  const auto = store.fitRoomModelBySessions(room, { bootstrap: 0 })
  assert.ok(auto.warnings.some((w) => w.includes("form 'auto'")))
  const tls = store.sessions(room).map((s) => store.load(room, s.sessionId).attributionTimeline())
  const plan = vap.RoomPlan.fromSummaries(tls.map((t) => vap.RoomPlan.summarise(t)))
  const g = plan.gram(tls[0])
  assert.throws(() => plan.fit([g, g]), (e) => e.code === 'VAP_INVALID_ARGUMENT' && /given twice/.test(e.message) && /no statistics for session/.test(e.message))
  assert.throws(() => plan.fit(g), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => plan.fit(['nope']), (e) => /grams\[0\]/.test(e.message))
  assert.throws(() => plan.fit([g.subarray(0, g.length - 5)]), (e) => /not vap session statistics/.test(e.message))
  assert.throws(() => vap.RoomPlan.fromSummaries([1]), (e) => /summaries\[0\]/.test(e.message))
  const other = vap.RoomPlan.fromSummaries(tls.map((t) => vap.RoomPlan.summarise(t, { target: 'orders' })), { target: 'orders' })
  assert.throws(() => plan.fit([g, ...tls.slice(1).map((t) => other.gram(t))]), (e) => /built under another plan/.test(e.message))
  await assertRejects(plan.fitAsync(tls.map((t) => plan.gram(t)), { signal: AbortSignal.abort() }), 'VAP_INVALID_ARGUMENT')
  const ac = new AbortController()
  const p = plan.fitAsync(tls.map((t) => plan.gram(t)), {
    signal: ac.signal,
    onProgress: (s) => {
      if (s.stage.startsWith('search')) ac.abort()
    },
  })
  await assertRejects(p, 'VAP_CANCELLED')
  await assertRejects(plan.fitAsync(tls.map((t) => plan.gram(t)), { bootstrap: 3 }), 'VAP_INVALID_ARGUMENT')
})

test('the store form runs off the main thread and has its Sync name', async () => {
  const steps = []
  const a = await store.fitRoomModelBySessionsAsync(room, { ...OPTS, onProgress: (s) => steps.push(s) })
  const b = store.fitRoomModelBySessionsSync(room, OPTS)
  assert.equal(a.model.toJsonString(), b.model.toJsonString())
  assert.ok(steps.some((s) => s.stage === 'sessions (statistics)' && s.done === 3))
  assert.equal(vap.RoomPlan.prototype.fitSync, vap.RoomPlan.prototype.fit)
})
