// Results have camelCase field names; map keys (data) and string values stay
// as the core writes them; a result given back is read in either form; table
// rows and the texts of persisted formats keep the core's canonical names.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { vap, SMALL } from './helpers.mjs'

let cached
function room() {
  cached ??= vap.simulate({ ...SMALL, hours: 1 })
  return cached
}

// Fields whose values are maps keyed by data: question kinds, figure keys,
// table names, platform figures.
const MAPS = new Set(['byKind', 'headline', 'rows', 'derived', 'tables', 'facts'])

/** `path: key` of every snake_case key outside the maps keyed by data, and how many keys were seen. */
function snakeKeys(v, path = '', out = { snake: [], seen: 0 }) {
  if (Array.isArray(v)) v.forEach((x) => snakeKeys(x, `${path}[]`, out))
  else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    const last = path.split('.').at(-1)
    for (const [k, x] of Object.entries(v)) {
      out.seen++
      if (k.includes('_') && !MAPS.has(last)) out.snake.push(`${path}: ${k}`)
      snakeKeys(x, `${path}.${k}`, out)
    }
  }
  return out
}

function assertCamel(v, what, atLeast = 1) {
  const { snake, seen } = snakeKeys(v, what)
  assert.deepEqual(snake, [], what)
  assert.ok(seen >= atLeast, `${what}: only ${seen} keys`)
}

test('results have camelCase field names, map keys and values as they are', () => {
  const { data: s, truth } = room()
  assertCamel(truth, 'truth', 20)
  assert.equal(typeof truth.clockOffsetMs, 'number')
  assertCamel([s.session, s.summary(), s.gmv(), s.commenters(), s.manifest()], 'session', 20)
  // a timeline's spans
  const spans = s.timeline().spans
  assertCamel(spans, 'spans')
  assert.deepEqual(Object.keys(spans[0]).sort(), ['grid', 'roomId', 'rows', 'sessionId', 'timezone'])
  assert.deepEqual(Object.keys(spans[0].grid).sort(), ['n', 'startMs', 'stepMs'])
  // a moment
  const moments = s.moments()
  assertCamel(moments, 'moments', 50)
  assert.ok(moments.every((m) => Number.isInteger(m.startMs) && m.endMs > m.startMs && 'videoMs' in m))
  // enum values stay snake_case: they are values, not names
  assert.ok(moments.some((m) => m.metric === 'order_gmv' || m.metric === 'online_viewers'))
  // an attribution's coefficients, diagnostics and decomposition
  const fit = s.attribute({ bootstrap: 5, seed: 1 })
  assertCamel([fit.coefficients, fit.diagnostics, fit.cv, fit.decomposition.totals()], 'attribution', 50)
  const c = fit.coefficients[0]
  for (const k of ['halfLifeMs', 'carryoverKind', 'stdError', 'ciLow', 'ciHigh', 'bootLow', 'bootHigh']) assert.ok(k in c, k)
  // a replay's JSON object, and a role's view of it
  const rep = s.replay({ model: { bootstrap: 5, seed: 1 } })
  const json = rep.toJSON()
  assertCamel(json, 'replay', 500)
  for (const k of ['roomId', 'sessionId', 'startMs', 'endMs', 'historySessions']) assert.ok(k in json, k)
  // data keys inside: the questions' kinds keep the core's names
  assert.ok(Object.keys(json.questions.stats.byKind).every((k) => k === k.toLowerCase()))
  for (const role of ['operator', 'anchor', 'fieldControl']) {
    const view = rep.view(role)
    assertCamel(view, `view(${role})`)
    for (const [k, v] of Object.entries(view)) if (k !== 'role') assert.deepEqual(v, json[k], `${role}.${k}`)
  }
  assertCamel(s.digest(), 'digest')
  assertCamel(s.questions(), 'questions')
  assertCamel(fit.model.toObject(), 'model', 20)
})

test('a result given back is read in its camelCase form and in the core\'s', () => {
  const { data: s } = room()
  const moments = s.moments()
  const fit = s.attribute({ bootstrap: 0 })
  const m = moments.find((x) => x.metric === 'order_gmv') ?? moments[0]
  const snake = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]))
  const split = fit.decomposition.moment(m)
  assertCamel(split, 'moment split')
  assert.deepEqual(fit.decomposition.moment(snake(m)), split)
  assert.deepEqual(vap.topMoments(moments, 2), vap.topMoments(moments.map(snake), 2))
  assert.deepEqual(vap.momentEvents(moments), vap.momentEvents(moments.map(snake)))
  // a manifest, as manifest() gives it and as manifest.json holds it
  const tables = Object.fromEntries(s.tableNames.map((n) => [n, s.table(n)]))
  const again = vap.fromTables(s.manifest(), tables)
  assert.deepEqual(again.session, s.session)
  const file = s.toJSON()
  const fromFile = vap.fromTables({ room: file.room, session: file.session, metrics: file.metrics }, tables)
  assert.deepEqual(fromFile.session, s.session)
  // a digest, a run-sheet, a playbook, an offset estimate
  assert.deepEqual(
    s.replay({ attribute: false }, [s.digest()]).toJSON().headline,
    s.replay({ attribute: false }, [s]).toJSON().headline,
  )
  const sheet = vap.readRunSheet([{ kind: 'product', start: '+0:00', end: '+0:10', product: s.table('products')[0].id, talking_points: 'a;b' }])
  assert.deepEqual(sheet.items[0].talkingPoints, ['a', 'b'])
  assert.equal(vap.runSheetToCsv(sheet), vap.runSheetToCsv({ ...sheet, items: sheet.items.map(snake) }))
  assert.deepEqual(s.withPlan(sheet).plan, sheet)
  // live events, as liveFeed gives them (camelCase) and as the core writes them
  const [batch] = vap.liveFeed(s, 600_000)
  assertCamel(batch.slice(0, 50), 'live events')
  const a = new vap.LiveSession(s)
  const b = new vap.LiveSession(s)
  const u = a.append(batch)
  assertCamel(u, 'live update')
  assert.deepEqual(b.append(batch.map(snake)), u)
})

test('table rows, toJSON and persisted texts keep the core\'s canonical names', () => {
  const { data: s } = room()
  assert.ok('ts_ms' in s.table('comments')[0] && 'viewer_id' in s.table('comments')[0])
  const whole = s.toJSON()
  assert.equal(whole.session.start_ms, s.session.startMs)
  assert.deepEqual(whole.comments[0], s.table('comments')[0])
  assert.ok('session_id' in vap.roomTimeline([s], { step: '1min' }).toObjects()[0])
  const fit = s.attribute({ bootstrap: 0 })
  const text = JSON.parse(fit.model.toJsonString())
  assert.ok('room_id' in text && 'step_ms' in text, Object.keys(text).join())
  assert.equal(vap.RoomModel.fromJson(fit.model.toJsonString()).toJsonString(), fit.model.toJsonString())
  // the same object otherwise: the names differ, not the values
  const norm = (v) =>
    Array.isArray(v)
      ? v.map(norm)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_/g, '').toLowerCase(), norm(x)]))
        : v
  assert.deepEqual(norm(fit.model.toObject()), norm(text))
  // options as the core holds them (ms), camelCase like everything else
  assert.equal(vap.optionDefaults('moments').stepMs, 30_000)
  assert.deepEqual(Object.keys(vap.resolveOptions('timeline', { lexicon: { my_group: ['x'] } }).lexicon.groups), ['my_group'])
})
