import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { vap, SMALL } from './helpers.mjs'

const require = createRequire(import.meta.url)

test('every native export is re-exported by index.js', () => {
  const native = require('../../native.js')
  const missing = Object.keys(native)
    .filter((k) => !k.startsWith('__napi')) // loader metadata, not API
    .filter((k) => vap[k] !== native[k])
  assert.deepEqual(missing, [])
  for (const name of ['Session', 'Store', 'simulate', 'simulateAsync', 'loadDir', 'loadDirAsync',
    'fromTables', 'setNumThreads', 'numThreads', 'version', '__panicForTests']) {
    assert.equal(typeof vap[name], 'function', name)
  }
})

test('ERROR_CODES and TABLE_NAMES come from the core', () => {
  assert.deepEqual([...vap.ERROR_CODES], [
    'VAP_VALIDATION', 'VAP_FORMAT', 'VAP_IO', 'VAP_NOT_FOUND', 'VAP_ALREADY_EXISTS',
    'VAP_VERSION', 'VAP_INVALID_ARGUMENT', 'VAP_INTERNAL',
  ])
  assert.deepEqual([...vap.ERROR_CODES], vap.errorCodes())
  assert.ok(Object.isFrozen(vap.ERROR_CODES) && Object.isFrozen(vap.TABLE_NAMES))
  const { data } = vap.simulate(SMALL)
  assert.deepEqual(data.tableNames, [...vap.TABLE_NAMES])
  assert.deepEqual(vap.tableNames(), [...vap.TABLE_NAMES])
  // Restated nowhere: index.js reads them from the addon.
  const src = require('node:fs').readFileSync(require.resolve('../../index.js'), 'utf8')
  assert.doesNotMatch(src, /'VAP_VALIDATION'|'anchors'/)
})

test('every code a thrown error carries is in ERROR_CODES', () => {
  const e = (() => {
    try {
      vap.fromTables({}, {})
    } catch (err) {
      return err
    }
  })()
  assert.ok(vap.ERROR_CODES.includes(e.code), e.code)
})

test('version is the crate version', () => {
  assert.match(vap.version(), /^\d+\.\d+\.\d+/)
  assert.equal(vap.version(), require('../../package.json').version)
})

test('thread count can be set and read back', () => {
  vap.setNumThreads(2)
  assert.equal(vap.numThreads(), 2)
  vap.setNumThreads(1)
  assert.equal(vap.numThreads(), 1)
  vap.setNumThreads(0)
  assert.ok(vap.numThreads() >= 1)
})
