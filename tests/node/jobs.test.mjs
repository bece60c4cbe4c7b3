// Long calls take `signal` (AbortSignal) and `onProgress` with their options.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { vap, assertRejects } from './helpers.mjs'

let dir, store, room

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vap-jobs-'))
  store = new vap.Store(join(dir, 'store'))
  for (const seed of [1, 2, 3]) store.importSession((await vap.simulateAsync({ seed, hours: 0.5 })).data)
  room = store.rooms()[0].id
})

after(() => rmSync(dir, { recursive: true, force: true }))

test('a room fit reports its sessions, then its bootstrap replicates, on the JS thread', async () => {
  const steps = []
  const fit = await store.fitRoomModelAsync(room, { bootstrap: 50, onProgress: (s) => steps.push(s) })
  const plain = await store.fitRoomModelAsync(room, { bootstrap: 50 })
  assert.deepEqual(fit.coefficients, plain.coefficients)
  const last = (stage) => steps.filter((s) => s.stage === stage).at(-1)
  assert.deepEqual(last('sessions'), { stage: 'sessions', done: 3, total: 3 })
  assert.deepEqual(last('bootstrap'), { stage: 'bootstrap', done: 50, total: 50 })
  assert.ok(steps.findIndex((s) => s.stage === 'bootstrap') > steps.findIndex((s) => s.stage === 'sessions'))
})

test('aborting the signal stops a fit with VAP_CANCELLED and saves nothing', async () => {
  const ac = new AbortController()
  const p = store.fitRoomModelAsync(room, {
    name: 'aborted',
    bootstrap: 20000,
    signal: ac.signal,
    onProgress: (s) => {
      if (s.stage === 'bootstrap') ac.abort()
    },
  })
  const e = await assertRejects(p, 'VAP_CANCELLED')
  assert.match(e.message, /stopped after \d+ of 20000 bootstrap/)
  assert.deepEqual(store.models(room), [])
  // an already aborted signal is refused before anything runs
  await assertRejects(store.fitRoomModelAsync(room, { signal: AbortSignal.abort() }), 'VAP_INVALID_ARGUMENT')
  // and the store works on
  assert.ok((await store.fitRoomModelAsync(room, { bootstrap: 5 })).coefficients.length > 0)
})

test('attributeAsync, playbookAsync and roomTimelineAsync take the same controls', async () => {
  const tl = store.attributionTimeline(room)
  const steps = []
  await vap.attributeAsync(tl, { bootstrap: 30, onProgress: (s) => steps.push(s) })
  assert.deepEqual(steps.at(-1), { stage: 'bootstrap', done: 30, total: 30 })
  steps.length = 0
  await store.playbookAsync(room, { onProgress: (s) => steps.push(s) })
  assert.ok(steps.some((s) => s.stage === 'sessions' && s.done === 3))
  steps.length = 0
  const t = await store.roomTimelineAsync(room, { step: '1min', onProgress: (s) => steps.push(s) })
  assert.equal(t.length, store.roomTimeline(room, { step: '1min' }).length)
  assert.deepEqual(steps.at(-1), { stage: 'sessions', done: 3, total: 3 })
  await assertRejects(vap.attributeAsync(tl, { onProgress: 'no' }), 'VAP_INVALID_ARGUMENT')
  await assertRejects(vap.attributeAsync(tl, { signal: {} }), 'VAP_INVALID_ARGUMENT')
})
