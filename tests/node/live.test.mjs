import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { vap, tempDir, assertVapError } from './helpers.mjs'

let cached
function room() {
  cached ??= vap.simulate({ seed: 31, hours: 1 })
  return cached
}

test('a session replayed as if live equals the batch timeline and moments', () => {
  const s = room().data
  const live = new vap.LiveSession(s, { horizon: null })
  for (const batch of vap.liveFeed(s, 2000)) live.append(batch)
  const data = live.data()
  const batch = vap.attributionTimeline([data], { step: live.stepMs })
  const tl = live.timeline()
  assert.deepEqual([...tl.columns].sort(), [...batch.columns].sort())
  for (const c of batch.columns) {
    const [a, b] = [[...tl.column(c)], [...batch.column(c)]]
    assert.deepEqual(a, b, c)
  }
  const paid = s.table('orders').filter((o) => o.status === 'paid').length
  assert.equal([...tl.column('orders')].reduce((x, y) => x + y, 0), paid)
  const want = data.moments({ step: live.stepMs }).map((m) => [m.metric, m.startMs, m.kind])
  assert.deepEqual(live.moments().map((m) => [m.metric, m.startMs, m.kind]), want)
})

test('alerts and moments are emitted as events, the async form too', async () => {
  const s = room().data
  const live = new vap.LiveSession(s)
  const alerts = []
  const moments = []
  let updates = 0
  live.on('alert', (a) => alerts.push(a))
  live.on('moment', (m) => moments.push(m))
  live.on('update', () => updates++)
  const batches = vap.liveFeed(s, 30_000)
  for (const b of batches) await live.appendAsync(b)
  assert.equal(updates, batches.length)
  assert.ok(alerts.length > 0 && moments.length > 0)
  assert.deepEqual(live.alerts(), alerts)
  for (const a of alerts) {
    assert.ok(a.message && a.messageZh && Array.isArray(a.factors), JSON.stringify(a))
    assert.ok(a.startMs <= a.endMs && a.atMs >= a.startMs)
  }
})

test('a question backlog lists the questions; Dates are taken for times', () => {
  const s = room().data
  const t0 = s.session.startMs
  const live = new vap.LiveSession(s, { alerts: { kinds: ['question_backlog'] } })
  const asked = ['多少钱', '有优惠券吗', '怎么买', '什么时候发货', '有没有小码']
  live.append(asked.map((text, k) => ({ type: 'comment', ts: new Date(t0 + 60_000 + k * 10_000), text, viewer_id: `v${k}` })))
  const fired = []
  live.on('alert', (a) => fired.push(a))
  const u = live.advance(new Date(t0 + 10 * 60_000))
  assert.equal(u.watermarkMs, t0 + 10 * 60_000)
  assert.deepEqual(fired.map((a) => a.kind), ['question_backlog'])
  assert.deepEqual([...fired[0].questions].sort(), [...asked].sort())
})

test('a capture log is followed as it is written', (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'douyin.jsonl')
  const t0 = room().data.session.startMs
  const line = (k) =>
    JSON.stringify({ method: 'WebcastChatMessage', common: { msgId: String(k), createTime: t0 + k * 1000 }, content: `c${k}` })
  const follower = new vap.CaptureFollower(path)
  assert.deepEqual(follower.poll(), [])
  const lines = Array.from({ length: 40 }, (_, k) => line(k))
  writeFileSync(path, lines.slice(0, 10).join('\n') + '\n' + lines[10].slice(0, 15))
  const live = new vap.LiveSession(room().data)
  assert.equal(live.follow(follower).accepted, 10)
  appendFileSync(path, lines[10].slice(15) + '\n' + lines.slice(11).join('\n') + '\n' + lines[2] + '\n')
  live.follow(follower)
  assert.equal(follower.repeats, 1)
  assert.equal(follower.lines, 41)
  assert.equal([...live.timeline().column('comments')].reduce((a, b) => a + b, 0), 40)
})

test('bad events are refused whole, each named', () => {
  const s = room().data
  const t0 = s.session.startMs
  const live = new vap.LiveSession(s)
  const e = assertVapError(
    () =>
      live.append([
        { type: 'comment', ts: t0, text: 'ok' },
        { type: 'sample', metric: 'nope', ts: t0, value: 1 },
        { type: 'what' },
      ]),
    'VAP_VALIDATION',
  )
  assert.equal(e.problems.length, 2)
  assert.match(e.message, /nope/)
  assert.equal(live.watermarkMs, null)
  assertVapError(() => new vap.LiveSession(s, { lateness: 'soon' }), 'VAP_INVALID_ARGUMENT')
  assert.equal(vap.optionDefaults('live').alerts.backlog, 5)
})

test('the replay-as-live example runs and prints alerts', () => {
  const root = new URL('../../', import.meta.url)
  const out = execFileSync(process.execPath, ['examples/node/live.mjs', '--simulate', '0.5'], { cwd: root, encoding: 'utf8' })
  assert.match(out, /alerts; update median/)
  assert.match(out, /live: \[/)
})
