import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { vap, SMALL } from './helpers.mjs'

const require = createRequire(import.meta.url)

test('every native export is re-exported by index.js', () => {
  const native = require('../../native.js')
  // index.js wraps these in an EventEmitter that emits what they return
  const wrapped = ['LiveSession']
  const missing = Object.keys(native)
    .filter((k) => !k.startsWith('__napi')) // loader metadata, not API
    .filter((k) => vap[k] !== native[k] && !wrapped.includes(k))
  assert.deepEqual(missing, [])
  const { EventEmitter } = require('node:events')
  for (const k of wrapped) {
    assert.ok(vap[k].prototype instanceof EventEmitter, k)
    for (const m of Object.getOwnPropertyNames(native[k].prototype)) assert.ok(m in vap[k].prototype, `${k}.${m}`)
  }
  for (const name of ['Session', 'Store', 'simulate', 'simulateAsync', 'loadDir', 'loadDirAsync',
    'fromTables', 'setNumThreads', 'numThreads', 'version', '__panicForTests']) {
    assert.equal(typeof vap[name], 'function', name)
  }
})

test('ERROR_CODES and TABLE_NAMES come from the core', () => {
  assert.deepEqual([...vap.ERROR_CODES], [
    'VAP_VALIDATION', 'VAP_FORMAT', 'VAP_IO', 'VAP_NOT_FOUND', 'VAP_ALREADY_EXISTS',
    'VAP_VERSION', 'VAP_INVALID_ARGUMENT', 'VAP_INTERNAL', 'VAP_CANCELLED',
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

test('tests/node/types.ts uses every export, so tsc checks every declaration', () => {
  const fs = require('node:fs')
  const src = fs.readFileSync(require.resolve('./types.ts'), 'utf8')
  const unused = Object.keys(vap).filter((k) => !new RegExp(`\\bvap\\.${k}\\b`).test(src))
  assert.deepEqual(unused, [])
})

test('option sets, defaults and resolved options come from the core', () => {
  assert.ok(Object.isFrozen(vap.OPTION_SETS))
  assert.deepEqual([...vap.OPTION_SETS], vap.optionSets())
  for (const name of vap.OPTION_SETS) {
    assert.equal(typeof vap.optionDefaults(name), 'object', name)
  }
  assert.equal(vap.optionDefaults('moments').stepMs, 30_000)
  assert.equal(vap.optionDefaults('attribution_timeline').stepMs, 10_000)
  const o = vap.resolveOptions('timeline', { step: '1min', perProduct: false })
  assert.equal(o.stepMs, 60_000)
  assert.equal(o.perProduct, false)
  assert.throws(() => vap.resolveOptions('timeline', { colour: 'blue' }), (e) =>
    e.code === 'VAP_INVALID_ARGUMENT' && /colour/.test(e.message))
  assert.throws(() => vap.optionDefaults('nothing'), (e) => e.code === 'VAP_INVALID_ARGUMENT')
  // Restated nowhere: no default lives in index.js.
  const src = require('node:fs').readFileSync(require.resolve('../../index.js'), 'utf8')
  assert.doesNotMatch(src, /30000|30_000|'30s'|10_000/)
})

test('negative seeds and times of day are refused, as in Python', () => {
  assert.throws(() => vap.simulate({ seed: -1, hours: 0.1 }), (e) => e.code === 'VAP_INVALID_ARGUMENT' && /seed/.test(e.message))
  const { data } = vap.simulate(SMALL)
  assert.throws(() => data.attribute({ timeOfDay: -1 }), (e) => e.code === 'VAP_INVALID_ARGUMENT' && /time_of_day/.test(e.message))
})
