import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { vap, SMALL, tempDir, assertVapError, assertRejects } from './helpers.mjs'

// Wrong argument types get the same VapError shape as every other error.
test('arguments of the wrong type throw VAP_INVALID_ARGUMENT', async (t) => {
  const store = new vap.Store(join(tempDir(t), 'store'))
  const { data } = vap.simulate(SMALL)
  const cases = [
    () => new vap.Store(1),
    () => vap.loadDir(),
    () => vap.loadDir(dirOf(t), 'not options'),
    () => vap.simulate('seed 7'),
    () => vap.setNumThreads(-1),
    () => vap.setNumThreads(2.5),
    () => vap.setNumThreads(1e9),
    () => data.table(3),
    () => data.numRows(null),
    () => data.writeDir(dirOf(t), 42),
    () => store.importSession({}),
    () => store.importSession(store),
    () => store.importSession(data, { replace: 'yes' }),
    () => store.load('room'),
    () => store.sessions(5),
    () => store.replaceTable('r', 's', 'orders', 'not rows'),
    () => vap.__panicForTests(),
  ]
  for (const [i, f] of cases.entries()) {
    const e = assertVapError(f, 'VAP_INVALID_ARGUMENT')
    assert.ok(e.message.length > 0, `case ${i}`)
  }
  await assertRejects(store.loadAsync(1, 's'), 'VAP_INVALID_ARGUMENT')
  await assertRejects(vap.loadDirAsync(undefined), 'VAP_INVALID_ARGUMENT')
  await assertRejects(vap.simulateAsync([]), 'VAP_INVALID_ARGUMENT')
  store.importSession(data) // the store still works after all of the above
  assert.ok(store.contains(data.room.id, data.session.id))
})

function dirOf(t) {
  return join(tempDir(t), 'x')
}
