// Long calls take `signal` (AbortSignal) and `onProgress` with their options.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
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

test('a call removes its abort listener when it settles: one signal serves many calls', async () => {
  // A service passes one long-lived signal to every call: listeners must not
  // pile up (Node warns past 10 with MaxListenersExceededWarning).
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const ac = new AbortController()
    const { signal } = ac
    const listeners = () => getEventListeners(signal, 'abort').length
    const tl = store.attributionTimeline(room)
    for (let k = 0; k < 20; k++) {
      // resolved, on the libuv thread pool; the listener is there while it runs
      const pending = store.roomTimelineAsync(room, { step: '1min', signal })
      assert.equal(listeners(), 1)
      assert.ok((await pending).length > 0)
      await vap.attributeAsync(tl, { bootstrap: 0, signal, onProgress: () => {} })
      assert.equal(listeners(), 0, `after call ${k}`)
    }
    // rejected: by the core while running, or refused after the listener was added
    await assertRejects(store.roomTimelineAsync('no-such-room', { signal }), 'VAP_NOT_FOUND')
    await assertRejects(vap.attributeAsync(tl, { signal, form: 'tobit' }), 'VAP_INVALID_ARGUMENT')
    // transcription, in both forms (no such recording: refused when it runs)
    const media = { model: join(dir, 'no-model.bin'), signal }
    await assert.rejects(vap.transcribe(join(dir, 'none.mp4'), media), (e) => typeof e.code === 'string')
    assert.throws(() => vap.transcribeSync(join(dir, 'none.mp4'), media), (e) => typeof e.code === 'string')
    assert.equal(listeners(), 0)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), [])
    // the signal still stops a call that is running
    const p = store.fitRoomModelAsync(room, {
      bootstrap: 20000,
      signal,
      onProgress: (s) => {
        if (s.stage === 'bootstrap') ac.abort()
      },
    })
    await assertRejects(p, 'VAP_CANCELLED')
    assert.equal(listeners(), 0)
  } finally {
    process.off('warning', onWarning)
  }
})

test('every heavy call has a Promise form that gives what the synchronous one does', async () => {
  const [a, b] = store.sessions(room).map((s) => store.load(room, s.sessionId))
  const opts = { model: { bootstrap: 10 } }
  const sync = a.replay(opts, [b, b.digest()])
  const later = await a.replayAsync(opts, [b, b.digest()])
  assert.deepEqual(later.toJSON(), sync.toJSON())
  assert.deepEqual(await a.momentsAsync({ threshold: 3 }), a.moments({ threshold: 3 }))
  const steps = []
  const rr = await store.roomReplayAsync(room, { ...opts, onProgress: (s) => steps.push(s) })
  assert.deepEqual(rr, store.roomReplay(room, opts))
  // the sessions, then the room model's bootstrap
  assert.ok(steps.some((s) => s.stage === 'sessions' && s.done === 3), JSON.stringify(steps))
  assert.deepEqual(steps.at(-1), { stage: 'bootstrap', done: 10, total: 10 })
  const p1 = join(dir, 'sync.html')
  const p2 = join(dir, 'async.html')
  sync.writeHtml(p1, { lang: 'en' })
  assert.equal(await later.writeHtmlAsync(p2, { lang: 'en' }), p2)
  assert.equal(readFileSync(p2, 'utf8'), readFileSync(p1, 'utf8'))
  // no recording: the same error either way
  assert.throws(() => sync.clips(join(dir, 'clips')), (e) => e.code === 'VAP_NOT_FOUND')
  await assertRejects(later.clipsAsync(join(dir, 'clips')), 'VAP_NOT_FOUND')
  await assertRejects(a.replayAsync(opts, [{ not: 'a digest' }]), 'VAP_INVALID_ARGUMENT')
})

test('progress reports never make vap wait for a busy JS thread', { timeout: 120_000 }, async () => {
  // A fit reporting progress runs on vap's pool while the JS thread is busy
  // in a synchronous call that needs the same pool: no thread of the pool may
  // wait for the JS thread (that would deadlock), and no report is lost.
  const steps = []
  const p = store.fitRoomModelAsync(room, { bootstrap: 3000, onProgress: (s) => steps.push(s) })
  for (let k = 0; k < 3; k++) store.roomReplay(room, { model: { bootstrap: 300 } })
  const fit = await p
  assert.ok(fit.coefficients.length > 0)
  assert.deepEqual(steps.at(-1), { stage: 'bootstrap', done: 3000, total: 3000 })
})
