// Tables in and out as Arrow IPC buffers, read and written by the
// `apache-arrow` package.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tableFromIPC, tableToIPC, tableFromArrays, tableFromJSON } from 'apache-arrow'
import { vap, SMALL, assertSameSession, assertVapError } from './helpers.mjs'

let cached
function room() {
  cached ??= vap.simulate(SMALL).data
  return cached
}

/** A value as the row objects have it (times as ms, no bigints). */
function plain(v) {
  if (typeof v === 'bigint') return Number(v)
  if (v instanceof Date) return v.getTime()
  return v
}

function rowsOf(t) {
  return t.toArray().map((r) => Object.fromEntries(Object.entries(r.toJSON()).map(([k, v]) => [k, plain(v)])))
}

test('Session.tableIpc gives every table as Arrow that apache-arrow reads back row for row', () => {
  const s = room()
  for (const name of s.tableNames) {
    const t = tableFromIPC(s.tableIpc(name))
    assert.equal(t.numRows, s.numRows(name), name)
    const want = s.table(name)
    const got = rowsOf(t)
    got.forEach((row, i) => {
      for (const [k, v] of Object.entries(want[i])) {
        if (typeof v === 'object' && v !== null) continue // nested (JSON) fields
        assert.deepEqual(row[k], v, `${name}[${i}].${k}`)
      }
    })
  }
  assert.equal(tableFromIPC(s.tableIpc('orders')).schema.fields.find((f) => f.name === 'ts_ms').type.unit, 1) // ms
  assertVapError(() => s.tableIpc('nope'), 'VAP_INVALID_ARGUMENT')
})

test('fromTables takes Arrow IPC buffers (stream or file) and rebuilds the same session', () => {
  const s = room()
  const stream = {}
  const file = {}
  for (const name of s.tableNames) {
    const t = tableFromIPC(s.tableIpc(name))
    stream[name] = tableToIPC(t, 'stream')
    file[name] = tableToIPC(t, 'file')
  }
  assertSameSession(vap.fromTables(s.manifest(), stream), s)
  assertSameSession(vap.fromTables(s.manifest(), file), s)
  // Node Buffers are Uint8Arrays too, and IPC mixes with row arrays.
  const mixed = { ...stream, orders: s.table('orders'), comments: Buffer.from(stream.comments) }
  assertSameSession(vap.fromTables(s.manifest(), mixed), s)
})

test('an Arrow table made in JS loads, with times as Dates, Timestamps or epoch ms, and bad rows are listed', () => {
  const t0 = Date.UTC(2025, 10, 25, 12, 0, 0)
  const manifest = {
    room: { id: 'r1', name: 'Room 1' },
    session: { id: 's1', room_id: 'r1', start_ms: t0, end_ms: t0 + 3_600_000, timezone: 'Asia/Shanghai' },
  }
  const products = [{ id: 'p1', name: 'Mug', price: 99 }]
  const asMs = tableFromArrays({
    id: ['o1', 'o2'],
    ts_ms: Float64Array.from([t0 + 2000, t0 + 1000]),
    product_id: ['p1', 'p1'],
    quantity: Int32Array.from([1, 2]),
    amount: Float64Array.from([99, 198]),
    status: ['paid', 'paid'],
  })
  const asDates = tableFromJSON([
    { id: 'o1', ts_ms: new Date(t0 + 2000), product_id: 'p1', quantity: 1, amount: 99, status: 'paid' },
    { id: 'o2', ts_ms: new Date(t0 + 1000), product_id: 'p1', quantity: 2, amount: 198, status: 'paid' },
  ])
  const a = vap.fromTables(manifest, { products, orders: tableToIPC(asMs) })
  const b = vap.fromTables(manifest, { products, orders: tableToIPC(asDates) })
  assert.deepEqual(a.table('orders').map((o) => [o.id, o.ts_ms]), [['o2', t0 + 1000], ['o1', t0 + 2000]])
  assert.deepEqual(b.table('orders'), a.table('orders'))

  const bad = tableFromArrays({
    id: ['o1', 'o2'],
    ts_ms: Float64Array.from([t0 + 1000, t0 + 2000]),
    product_id: ['p1', 'p9'],
    quantity: Int32Array.from([1, 1]),
    amount: Float64Array.from([-5, 10]),
    status: ['paid', 'paid'],
  })
  const e = assertVapError(() => vap.fromTables(manifest, { products, orders: tableToIPC(bad) }), 'VAP_VALIDATION')
  const fields = e.problems.map((p) => `${p.file}:${p.row}:${p.field}`)
  assert.ok(fields.includes('orders:1:amount'), fields.join(' '))
  assert.ok(fields.includes('orders:2:product_id'), fields.join(' '))
})

test('bytes that are not Arrow IPC are a format error naming the table', () => {
  const s = room()
  const e = assertVapError(
    () => vap.fromTables(s.manifest(), { comments: new Uint8Array([1, 2, 3, 4]) }),
    'VAP_FORMAT',
  )
  assert.match(e.message, /tables\.comments/)
  assertVapError(() => vap.fromTables(s.manifest(), { comments: new Float64Array([1]) }), 'VAP_INVALID_ARGUMENT')
})

test('timelines, decompositions and replay tables come out as Arrow IPC', () => {
  const s = room()
  const tl = s.timeline({ step: '1min' })
  const t = tableFromIPC(tl.toArrowIpc())
  assert.equal(t.numRows, tl.length)
  assert.deepEqual(Array.from(t.getChild('time').toArray(), plain), Array.from(tl.time()))
  for (const name of tl.columns.slice(0, 20)) {
    const col = t.getChild(name)
    const want = tl.column(name)
    for (let i = 0; i < tl.length; i++) {
      const v = col.get(i)
      if (Number.isNaN(want[i])) assert.equal(v, null, `${name}[${i}]`)
      else assert.equal(v, want[i], `${name}[${i}]`)
    }
  }
  const fit = vap.attribute(s.attributionTimeline(), { bootstrap: 10 })
  const d = tableFromIPC(fit.decomposition.toArrowIpc())
  assert.equal(d.numRows, fit.decomposition.length)
  for (const name of ['actual', 'prediction', 'baseline', 'traffic', ...fit.decomposition.factors]) {
    assert.ok(d.getChild(name), name)
  }
  const rep = s.replay({ model: { bootstrap: 10 } })
  for (const name of ['products', 'moments', 'anchors']) {
    const r = tableFromIPC(rep.tableIpc(name))
    const want = rep.table(name)
    assert.equal(r.numRows, want.length, name)
    const got = rowsOf(r)
    got.forEach((row, i) => {
      for (const [k, v] of Object.entries(want[i])) {
        if (typeof v === 'object' && v !== null) continue
        assert.deepEqual(row[k], v, `${name}[${i}].${k}`)
      }
    })
  }
})
