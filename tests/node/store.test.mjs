import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { vap, SMALL, tempDir, assertSameSession, assertVapError, assertRejects } from './helpers.mjs'

function openStore(t) {
  return new vap.Store(join(tempDir(t, 'vap-store-'), 'store'))
}

test('import, list, load, contains', (t) => {
  const store = openStore(t)
  assert.deepEqual(store.rooms(), [])
  const { data } = vap.simulate(SMALL)
  store.importSession(data)
  assert.deepEqual(store.rooms(), [data.room])
  const sessions = store.sessions()
  assert.equal(sessions.length, 1)
  assert.equal(sessions[0].roomId, data.room.id)
  assert.equal(sessions[0].sessionId, data.session.id)
  assert.equal(sessions[0].rows.orders, data.numRows('orders'))
  assert.deepEqual(store.sessions(data.room.id), sessions)
  assert.ok(store.contains(data.room.id, data.session.id))
  assert.ok(!store.contains(data.room.id, 'other'))
  assertSameSession(store.load(data.room.id, data.session.id), data)
  assert.ok(store.root.endsWith('store'))
})

test('re-import is refused unless replace is asked', (t) => {
  const store = openStore(t)
  const { data } = vap.simulate(SMALL)
  store.importSession(data)
  assertVapError(() => store.importSession(data), 'VAP_ALREADY_EXISTS')
  // Same ids, different content: replace swaps it in.
  const other = vap.simulate({ ...SMALL, seed: 99, sessionId: data.session.id }).data
  assertVapError(() => store.importSession(other, { replace: false }), 'VAP_ALREADY_EXISTS')
  store.importSession(other, { replace: true })
  assertSameSession(store.load(data.room.id, data.session.id), other)
  assert.equal(store.sessions().length, 1)
})

test('delete removes a session', (t) => {
  const store = openStore(t)
  const { data } = vap.simulate(SMALL)
  store.importSession(data)
  store.delete(data.room.id, data.session.id)
  assert.ok(!store.contains(data.room.id, data.session.id))
  assert.deepEqual(store.sessions(), [])
  assertVapError(() => store.delete(data.room.id, data.session.id), 'VAP_NOT_FOUND')
  assertVapError(() => store.load(data.room.id, data.session.id), 'VAP_NOT_FOUND')
})

test('ids that would escape the store are refused', (t) => {
  const store = openStore(t)
  for (const [room, session] of [['../x', 's'], ['r', '../x'], ['r', 'a/b'], ['.hidden', 's'], ['', 's']]) {
    assertVapError(() => store.load(room, session), 'VAP_INVALID_ARGUMENT')
    assertVapError(() => store.contains(room, session), 'VAP_INVALID_ARGUMENT')
    assertVapError(() => store.delete(room, session), 'VAP_INVALID_ARGUMENT')
  }
  assertVapError(() => store.sessions('../x'), 'VAP_INVALID_ARGUMENT')
  // A session cannot even be built with such an id, so it never reaches import.
  const { data } = vap.simulate(SMALL)
  const manifest = data.manifest()
  manifest.session.id = '../escape'
  const e = assertVapError(() => vap.fromTables(manifest, {}), 'VAP_VALIDATION')
  assert.deepEqual(e.problems.map((p) => p.field), ['session.id'])
  assert.deepEqual(store.rooms(), [])
})

test('a non-store directory is not turned into a store', (t) => {
  const dir = tempDir(t)
  const { data } = vap.simulate(SMALL)
  data.writeDir(dir, 'csv')
  assertVapError(() => new vap.Store(dir), 'VAP_INVALID_ARGUMENT')
})

test('importDir loads and imports a session directory', (t) => {
  const store = openStore(t)
  const dir = tempDir(t)
  const { data } = vap.simulate(SMALL)
  data.writeDir(dir, 'parquet')
  const imported = store.importDir(dir)
  assertSameSession(imported, data)
  assertVapError(() => store.importDir(dir), 'VAP_ALREADY_EXISTS')
  const again = store.importDir(dir, { replace: true, pseudonymizeKey: 'k' })
  assert.notEqual(again.table('comments')[0].viewer_id, data.table('comments')[0].viewer_id)
  assert.deepEqual(store.load(data.room.id, data.session.id).table('comments'), again.table('comments'))
})

test('readTable returns the stored rows with their keys', (t) => {
  const store = openStore(t)
  const { data } = vap.simulate(SMALL)
  store.importSession(data)
  const rows = store.readTable(data.room.id, data.session.id, 'orders')
  assert.equal(rows.length, data.numRows('orders'))
  const expected = data.table('orders').map((r) => ({ room_id: data.room.id, session_id: data.session.id, ...r }))
  assert.deepEqual(rows, expected)
  assert.deepEqual(Object.keys(rows[0]).slice(0, 2), ['room_id', 'session_id'])
  assertVapError(() => store.readTable(data.room.id, data.session.id, 'nope'), 'VAP_NOT_FOUND')
})

test('replaceTable validates and writes a core table', (t) => {
  const store = openStore(t)
  const { data } = vap.simulate(SMALL)
  store.importSession(data)
  const { room: { id: room }, session: { id: session } } = data
  const orders = data.table('orders').slice(0, 3)
  store.replaceTable(room, session, 'orders', orders)
  const loaded = store.load(room, session)
  assert.deepEqual(loaded.table('orders'), orders)
  assert.deepEqual(loaded.table('comments'), data.table('comments'), 'other tables untouched')
  assert.equal(store.sessions()[0].rows.orders, 3)

  const bad = [{ ...orders[0], amount: -1 }, { ...orders[1], product_id: 'nope' }]
  const e = assertVapError(() => store.replaceTable(room, session, 'orders', bad), 'VAP_VALIDATION')
  assert.deepEqual(e.problems.map((p) => [p.file, p.row, p.field]).sort(),
    [['orders', 1, 'amount'], ['orders', 2, 'product_id']])
  assert.deepEqual(store.load(room, session).table('orders'), orders, 'a failed replace changes nothing')
  // Derived tables: types inferred from the values, stored as given.
  const timeline = [{ minute: 0, gmv: 1.5, label: 'a' }, { minute: 1, gmv: 2, label: null }]
  store.replaceTable(room, session, 'timeline', timeline)
  assert.deepEqual(store.readTable(room, session, 'timeline'),
    [{ minute: 0, gmv: 1.5, label: 'a' }, { minute: 1, gmv: 2 }])
  assert.deepEqual(store.sessions()[0].derived, ['timeline'])
  const mixed = assertVapError(() => store.replaceTable(room, session, 'timeline', [{ x: 1 }, { x: 'a' }]), 'VAP_VALIDATION')
  assert.deepEqual(mixed.problems.map((p) => [p.row, p.field]), [[2, 'x']])
  assertVapError(() => store.replaceTable(room, session, 'timeline', []), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => store.replaceTable(room, session, '../up', timeline), 'VAP_INVALID_ARGUMENT')
})

test('loadAsync resolves and rejects with codes', async (t) => {
  const store = openStore(t)
  const { data } = vap.simulate(SMALL)
  store.importSession(data)
  const loaded = await store.loadAsync(data.room.id, data.session.id)
  assertSameSession(loaded, data)
  await assertRejects(store.loadAsync(data.room.id, 'missing'), 'VAP_NOT_FOUND')
  await assertRejects(store.loadAsync('../x', 's'), 'VAP_INVALID_ARGUMENT')
})

// ---------------------------------------------------------------- reliability

import { mkdirSync, truncateSync, writeFileSync, existsSync } from 'node:fs'

function twoSessions(t) {
  const store = openStore(t)
  store.importSession(vap.simulate({ ...SMALL, seed: 1, hours: 0.2, sessionId: 'a' }).data)
  store.importSession(vap.simulate({ ...SMALL, seed: 2, hours: 0.2, sessionId: 'b' }).data)
  return { store, sessions: join(store.root, 'rooms', 'sim-room', 'sessions') }
}

test('check() reports every damaged file; listing goes on and names the damage', (t) => {
  const { store, sessions } = twoSessions(t)
  const clean = store.check()
  assert.deepEqual(clean.damaged, [])
  assert.equal(clean.sessions, 2)
  assert.ok(clean.files > 10)
  truncateSync(join(sessions, 'a', 'orders.parquet'), 100)
  truncateSync(join(sessions, 'a', 'comments.parquet'), 100)
  const report = store.check()
  assert.deepEqual(report.damaged.map((d) => d.path.split('/').pop()).sort(), ['comments.parquet', 'orders.parquet'])
  assert.ok(report.damaged.every((d) => d.sessionId === 'a' && d.problem.length > 0))
  const infos = Object.fromEntries(store.sessions().map((s) => [s.sessionId, s]))
  assert.deepEqual(infos.b.damage, [])
  assert.equal(infos.a.damage.length, 2)
  // Loading lists every damaged file of the session at once.
  const e = assertVapError(() => store.load('sim-room', 'a'), 'VAP_VALIDATION')
  assert.equal(e.problems.length, 2)
  assertVapError(() => store.readTable('sim-room', 'a', 'orders'), 'VAP_FORMAT')
  assert.ok(store.load('sim-room', 'b').numRows('orders') > 0)
})

test('a torn journal is recovered as nothing committed, and said so', (t) => {
  const { store } = twoSessions(t)
  mkdirSync(join(store.root, '.journal'))
  writeFileSync(join(store.root, '.journal', '12-1.json'), '')
  const again = new vap.Store(store.root)
  assert.match(again.recovered.join('\n'), /nothing had been committed/)
  assert.ok(!existsSync(join(store.root, '.journal')))
  assert.ok(again.load('sim-room', 'a').numRows('orders') > 0)
  assert.deepEqual(new vap.Store(store.root).recovered, [])
})

test('Store.openReadOnly reads and refuses writers', (t) => {
  const { store } = twoSessions(t)
  const ro = vap.Store.openReadOnly(store.root)
  assert.equal(ro.readOnly, true)
  assert.equal(store.readOnly, false)
  assert.equal(ro.sessions().length, 2)
  assert.deepEqual(ro.check().damaged, [])
  const c = vap.simulate({ ...SMALL, sessionId: 'c' }).data
  assert.throws(() => ro.importSession(c), (e) => e.code === 'VAP_IO' && /without write access/.test(e.message))
  assertVapError(() => vap.Store.openReadOnly(join(tempDir(t), 'nothing')), 'VAP_NOT_FOUND')
})

test('deceptive ids are refused', (t) => {
  const store = openStore(t)
  for (const bad of ['a\u202eb', 'zero\u200bwidth', 'CON', 'nul.txt', 'trailing.']) {
    assertVapError(() => store.load('sim-room', bad), 'VAP_INVALID_ARGUMENT')
  }
})

test('a timeline too large is refused naming its size', () => {
  const { data } = vap.simulate({ seed: 1, hours: 12 })
  assert.throws(() => data.timeline({ step: '1ms' }), (e) => e.code === 'VAP_INVALID_ARGUMENT' && /GB/.test(e.message))
})
