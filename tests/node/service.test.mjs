// The example HTTP service (examples/node/service.mjs), started on a loopback
// port and asked over real HTTP.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { vap } from './helpers.mjs'
import { createService } from '../../examples/node/service.mjs'

let dir, server, base, room, short, long

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vap-service-'))
  const store = new vap.Store(join(dir, 'store'))
  // Two sessions of one room: a short one, and a long one whose replay takes
  // long enough to overlap other requests.
  const a = await vap.simulateAsync({ seed: 3, hours: 0.5, products: 6, anchors: 2 })
  const b = await vap.simulateAsync({ seed: 4, hours: 4, products: 6, anchors: 2 })
  room = a.data.room.id
  assert.equal(b.data.room.id, room)
  short = a.data.session.id
  long = b.data.session.id
  assert.notEqual(short, long)
  store.importSession(a.data)
  store.importSession(b.data)
  server = createService(join(dir, 'store'), { cacheSize: 1 })
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  base = `http://127.0.0.1:${server.address().port}`
})

after(() => {
  server?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function get(path, init) {
  const res = await fetch(base + path, init)
  const text = await res.text()
  return { status: res.status, type: res.headers.get('content-type'), text }
}

test('rooms and a room\'s sessions are served as the store lists them', async () => {
  const rooms = await get('/rooms')
  assert.equal(rooms.status, 200)
  assert.match(rooms.type, /^application\/json/)
  assert.deepEqual(JSON.parse(rooms.text), JSON.parse(JSON.stringify(server.store.rooms())))
  const sessions = await get(`/rooms/${encodeURIComponent(room)}/sessions`)
  assert.equal(sessions.status, 200)
  const ids = JSON.parse(sessions.text).map((s) => s.sessionId).sort()
  assert.deepEqual(ids, [short, long].sort())
})

test('a session\'s replay is the JSON of Store.replay, and a role\'s view its view', async () => {
  const r = await get(`/rooms/${room}/sessions/${short}/replay`)
  assert.equal(r.status, 200)
  const expected = server.store.replay(room, short)
  assert.deepEqual(JSON.parse(r.text), JSON.parse(JSON.stringify(expected.toJSON())))
  const v = await get(`/rooms/${room}/sessions/${short}/replay?role=anchor`)
  assert.equal(v.status, 200)
  assert.deepEqual(JSON.parse(v.text), JSON.parse(JSON.stringify(expected.view('anchor'))))
  const bad = await get(`/rooms/${room}/sessions/${short}/replay?role=boss`)
  assert.equal(bad.status, 400)
  assert.equal(JSON.parse(bad.text).error.code, 'VAP_INVALID_ARGUMENT')
})

test('the report is the HTML of Replay.toHtml, in the language asked for', async () => {
  const r = await get(`/rooms/${room}/sessions/${short}/report?lang=en`)
  assert.equal(r.status, 200)
  assert.match(r.type, /^text\/html/)
  assert.equal(r.text, server.store.replay(room, short).toHtml({ lang: 'en' }))
  const zh = await get(`/rooms/${room}/sessions/${short}/report`)
  assert.match(zh.text, /直播复盘/)
  const roomPage = await get(`/rooms/${room}/report?lang=en`)
  assert.equal(roomPage.status, 200)
  assert.equal(roomPage.text, server.store.roomHtml(room, { lang: 'en' }))
})

test('an unknown session or room is 404 with a message naming it; other misuse is 4xx', async () => {
  const s = await get(`/rooms/${room}/sessions/no-such-session/replay`)
  assert.equal(s.status, 404)
  const err = JSON.parse(s.text).error
  assert.equal(err.code, 'VAP_NOT_FOUND')
  assert.match(err.message, /no-such-session/)
  const rs = await get('/rooms/no-such-room/sessions')
  assert.equal(rs.status, 404)
  assert.match(JSON.parse(rs.text).error.message, /no-such-room/)
  const rr = await get('/rooms/no-such-room/report')
  assert.equal(rr.status, 404)
  // an id the store refuses (a path escape) is a bad argument, not a file read
  const esc = await get(`/rooms/${room}/sessions/${encodeURIComponent('../x')}/replay`)
  assert.equal(esc.status, 400)
  assert.equal((await get('/nowhere')).status, 404)
  assert.equal((await get('/rooms', { method: 'POST' })).status, 405)
  assert.equal((await get('/rooms/%E0%A4%A/sessions')).status, 400)
})

test('concurrent requests all get their own, correct answers', async () => {
  const paths = []
  for (let i = 0; i < 4; i++) {
    paths.push(`/rooms/${room}/sessions/${short}/replay`, `/rooms/${room}/sessions`, '/rooms')
    paths.push(`/rooms/${room}/sessions/${i % 2 ? short : 'missing'}/report`)
  }
  const got = await Promise.all(paths.map((p) => get(p)))
  const once = await Promise.all([...new Set(paths)].map(async (p) => [p, await get(p)]))
  const expected = new Map(once)
  got.forEach((r, i) => {
    const want = expected.get(paths[i])
    assert.equal(r.status, want.status, paths[i])
    assert.equal(r.text, want.text, paths[i])
  })
  assert.ok(got.some((r) => r.status === 404) && got.some((r) => r.status === 200))
})

test('a long replay does not block other requests', async () => {
  // The cache holds one replay: asking for the short one evicts the long one.
  await get(`/rooms/${room}/sessions/${short}/replay`)
  const order = []
  const slow = get(`/rooms/${room}/sessions/${long}/report`).then((r) => {
    order.push('report')
    return r
  })
  // Health checks, one after another, while the long report is computed.
  let answered = 0
  while (!order.includes('report') && answered < 200) {
    const h = await get('/health')
    assert.equal(h.status, 200)
    answered++
    if (!order.includes('report')) order.push('health')
  }
  const r = await slow
  assert.equal(r.status, 200)
  assert.match(r.text, new RegExp(long))
  // The event loop answered health checks while the replay ran off it.
  assert.ok(order.indexOf('health') >= 0 && order.indexOf('health') < order.indexOf('report'), order.join(','))
})
