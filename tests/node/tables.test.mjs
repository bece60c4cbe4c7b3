import { test } from 'node:test'
import assert from 'node:assert/strict'
import { vap, SMALL, assertSameSession, assertVapError } from './helpers.mjs'

const T0 = 1_764_072_000_000

const manifest = {
  vap_format: 1,
  room: { id: 'r1', name: 'Room one', platform: 'douyin' },
  session: { id: 's1', start_ms: T0, end_ms: T0 + 3_600_000, timezone: 'Asia/Shanghai' },
  metrics: [{ name: 'online_viewers', kind: 'gauge', unit: 'viewers' }],
}

const products = [
  { id: 'p1', name: 'Lipstick', price: 99, aliases: ['1号链接'] },
  { id: 'p2', name: 'Serum', price: 199 },
]

test('fromTables builds a session from plain rows', () => {
  const s = vap.fromTables(manifest, {
    products,
    orders: [
      { id: 'o2', ts_ms: T0 + 2000, product_id: 'p2', quantity: 1, amount: 199, status: 'paid' },
      { id: 'o1', ts_ms: '2025-11-25T20:00:01+08:00', product_id: 'p1', quantity: 2, amount: 198, status: 'paid' },
    ],
    metrics: [{ metric: 'online_viewers', ts_ms: T0, value: 10 }],
  })
  assert.equal(s.room.id, 'r1')
  assert.equal(s.session.roomId, 'r1')
  assert.equal(s.session.timezone, 'Asia/Shanghai')
  const orders = s.table('orders')
  assert.deepEqual(orders.map((o) => o.id), ['o1', 'o2'], 'sorted by time')
  assert.equal(orders[0].ts_ms, T0 + 1000, 'RFC 3339 time parsed to ms')
  assert.equal(s.gmv().gross, 397)
  assert.deepEqual(s.table('products')[0].aliases, ['1号链接'])
  assert.equal(s.numRows('comments'), 0)
})

test('fromTables round-trips a simulated session', () => {
  const { data } = vap.simulate(SMALL)
  const tables = {}
  for (const name of data.tableNames) tables[name] = data.table(name)
  const rebuilt = vap.fromTables(data.manifest(), tables)
  assertSameSession(rebuilt, data)
})

test('fromTables reports every bad row with its row and field', () => {
  const e = assertVapError(() => vap.fromTables(manifest, {
    products,
    orders: [
      { id: 'o1', ts_ms: T0 + 1000, product_id: 'p1', quantity: 1, amount: 99, status: 'paid' },
      { id: 'o2', ts_ms: T0 + 2000, product_id: 'p1', quantity: 1, amount: -5, status: 'paid' },
      { id: 'o3', ts_ms: T0 + 3000, product_id: 'p9', quantity: 1, amount: 10, status: 'paid' },
      { id: 'o4', ts_ms: 'yesterday', product_id: 'p1', quantity: 1, amount: 10, status: 'paid' },
      { id: 'o5', ts_ms: '2025-13-45 99:00', product_id: 'p1', quantity: 1, amount: 10, status: 'paid' },
      { id: 'o6', ts_ms: T0 + 1.5, product_id: 'p2', quantity: 1, amount: 10, status: 'paid' },
    ],
  }), 'VAP_VALIDATION')
  const got = e.problems.map((p) => `${p.file}:${p.row}:${p.field}`).sort()
  assert.deepEqual(got, [
    'orders:2:amount',
    'orders:3:product_id',
    'orders:4:ts_ms',
    'orders:5:ts_ms',
    'orders:6:ts_ms',
  ])
  for (const p of e.problems) assert.equal(typeof p.message, 'string')
  assert.match(e.message, /5 problem\(s\)/)
})

test('fromTables reports rows that are not rows with every problem validation finds (merged in the core)', () => {
  const e = assertVapError(() => vap.fromTables(manifest, {
    products,
    orders: [
      'not a row',
      { id: 'o2', ts_ms: T0 + 2000, product_id: 'p1', quantity: 1, amount: -5, status: 'paid' },
      { id: 'o3', ts_ms: T0 + 3000, product_id: 'p1', quantity: { n: 1 }, amount: 10, status: 'paid' },
    ],
  }), 'VAP_VALIDATION')
  const got = e.problems.map((p) => `${p.file}:${p.row}:${p.field}`)
  // The conversion's problems first, then validation's; all in one error.
  assert.deepEqual(got.slice(0, 2).sort(), ['orders:1:null', 'orders:3:quantity'])
  assert.ok(got.includes('orders:2:amount'), got.join(' '))
  assert.match(e.message, new RegExp(`${e.problems.length} problem\\(s\\)`))
})

test('problems without a row or field have them as null', () => {
  const e = assertVapError(() => vap.fromTables(manifest, {
    anchors: [{ id: 'a1' }],
  }), 'VAP_VALIDATION')
  assert.deepEqual(e.problems.map((p) => [p.file, p.row, p.field]), [['anchors', null, 'name']])
})

test('fromTables refuses unknown tables and malformed arguments', () => {
  const e = assertVapError(() => vap.fromTables(manifest, { order: [] }), 'VAP_INVALID_ARGUMENT')
  assert.match(e.message, /order/)
  assertVapError(() => vap.fromTables(manifest, { orders: {} }), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.fromTables(manifest, { products: [{ id: 'p', name: 'n', price: 1, aliases: [{}] }] }),
    'VAP_VALIDATION')
  assertVapError(() => vap.fromTables({ room: manifest.room }, {}), 'VAP_FORMAT')
  assertVapError(() => vap.fromTables({ ...manifest, vap_format: 2 }, {}), 'VAP_VERSION')
})

test('commenters are derived from the comments', () => {
  const { data } = vap.simulate(SMALL)
  const commenters = data.commenters()
  const comments = data.table('comments')
  assert.equal(commenters.length, new Set(comments.map((c) => c.viewer_id)).size)
  assert.equal(commenters.reduce((n, c) => n + c.comments, 0), comments.length)
  const first = commenters[0]
  assert.equal(first.firstMs, Math.min(...comments.filter((c) => c.viewer_id === first.id).map((c) => c.ts_ms)))
  assert.equal(data.summary().commenters, commenters.length)
})
