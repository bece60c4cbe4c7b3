// Shared helpers for the node:test suites (not a test file itself).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
/** The package under test, loaded exactly as `require('vap')` would. */
export const vap = require('../../index.js')

/** A small simulation config: half an hour keeps every suite fast. */
export const SMALL = Object.freeze({ seed: 7, hours: 0.5, products: 8, anchors: 2 })

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t, prefix = 'vap-node-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Every table of a session as JSON text, keyed by table name. */
export function tablesJson(session) {
  const out = {}
  for (const name of session.tableNames) out[name] = JSON.stringify(session.table(name))
  return out
}

/** Asserts two sessions hold the same room, session, metrics and tables. */
export function assertSameSession(actual, expected) {
  assert.deepEqual(actual.room, expected.room)
  assert.deepEqual(actual.session, expected.session)
  assert.deepEqual(actual.metrics, expected.metrics)
  for (const name of expected.tableNames) {
    assert.equal(actual.numRows(name), expected.numRows(name), `row count of ${name}`)
    assert.deepEqual(actual.table(name), expected.table(name), `table ${name}`)
  }
}

/**
 * Asserts that `fn` throws (or, for a Promise, rejects with) a VapError with
 * `code`; returns the error for further checks.
 */
export function assertVapError(fn, code) {
  let caught
  try {
    fn()
  } catch (e) {
    caught = e
  }
  checkError(caught, code)
  return caught
}

export async function assertRejects(promise, code) {
  let caught
  try {
    await promise
  } catch (e) {
    caught = e
  }
  checkError(caught, code)
  return caught
}

function checkError(e, code) {
  assert.ok(e, `expected an error with code ${code}, nothing was thrown`)
  assert.ok(e instanceof Error, `expected an Error, got ${e}`)
  assert.equal(e.code, code, `code of: ${e.message}`)
  assert.ok(Array.isArray(e.problems), 'problems is an array')
}
