// Every heavy call `x` has a Promise form `xAsync` and `xSync`, the same
// function as `x` under its explicit name (index.js adds it).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { vap, SMALL, tablesJson } from './helpers.mjs'

const dts = readFileSync(new URL('../../index.d.ts', import.meta.url), 'utf8')

/** `[owner, base]` of every `baseAsync` of `target` (own properties). */
function asyncNames(target) {
  return Object.getOwnPropertyNames(target)
    .filter((k) => k.endsWith('Async') && k !== 'Async')
    .map((k) => k.slice(0, -'Async'.length))
}

test('every xAsync export and method has an xSync that is x', () => {
  const checked = []
  for (const base of asyncNames(vap)) {
    assert.equal(typeof vap[base], 'function', `${base}Async has no ${base}`)
    assert.equal(vap[`${base}Sync`], vap[base], `${base}Sync`)
    assert.match(dts, new RegExp(`export declare function ${base}Sync\\(`), `${base}Sync in index.d.ts`)
    checked.push(base)
  }
  for (const [name, cls] of Object.entries(vap)) {
    if (typeof cls !== 'function' || !cls.prototype) continue
    const proto = cls.prototype
    for (const base of asyncNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, base)
      assert.equal(typeof d?.value, 'function', `${name}.${base}Async has no ${base}`)
      // transcribe is the Promise form, transcribeSync its synchronous one
      assert.equal(proto[`${base}Sync`], proto[base], `${name}.${base}Sync`)
      assert.match(dts, new RegExp(`\\n  ${base}Sync\\(`), `${name}.${base}Sync in index.d.ts`)
      checked.push(`${name}.${base}`)
    }
  }
  for (const want of ['simulate', 'loadDir', 'attribute', 'Session.replay', 'Store.fitRoomModel', 'Replay.toHtml', 'LiveSession.append']) {
    assert.ok(checked.includes(want), `${want}: ${checked}`)
  }
  // not where the synchronous form has its own function
  assert.notEqual(vap.transcribeSync, vap.transcribe)
  assert.equal(vap.transcribeAsync, undefined)
})

test('the three forms of a call give the same results', async () => {
  const a = vap.simulateSync(SMALL)
  const b = vap.simulate(SMALL)
  const c = await vap.simulateAsync(SMALL)
  assert.deepEqual(a.truth, b.truth)
  assert.deepEqual(c.truth, b.truth)
  assert.deepEqual(tablesJson(a.data), tablesJson(b.data))
  const s = a.data
  const opts = { threshold: 3 }
  assert.deepEqual(s.momentsSync(opts), s.moments(opts))
  assert.deepEqual(await s.momentsAsync(opts), s.moments(opts))
  const tl = s.attributionTimeline()
  assert.deepEqual(vap.attributeSync(tl, { bootstrap: 0 }).coefficients, vap.attribute(tl, { bootstrap: 0 }).coefficients)
  const live = new vap.LiveSession(s)
  const [first, second] = vap.liveFeed(s, 600_000)
  assert.equal(live.appendSync(first).accepted, first.length)
  assert.equal(live.append(second).accepted, second.length)
})
