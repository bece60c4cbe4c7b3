import { test } from 'node:test'
import assert from 'node:assert/strict'
import { vap, SMALL, assertVapError } from './helpers.mjs'

test('a Rust panic becomes a VAP_INTERNAL error, and vap keeps working', () => {
  const e = assertVapError(() => vap.__panicForTests('boom from the test'), 'VAP_INTERNAL')
  assert.match(e.message, /boom from the test/)
  assert.deepEqual(e.problems, [])
  // The process and the addon are still usable afterwards, repeatedly.
  assertVapError(() => vap.__panicForTests('again'), 'VAP_INTERNAL')
  const { data } = vap.simulate(SMALL)
  assert.ok(data.numRows('orders') > 0)
})
