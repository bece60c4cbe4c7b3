import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, existsSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { vap, tempDir, assertVapError, assertRejects } from './helpers.mjs'

const QUICK = { model: { bootstrap: 20, seed: 1 } }
const here = dirname(fileURLToPath(import.meta.url))

let cached
function room() {
  cached ??= vap.simulate({ seed: 11, hours: 1.5 })
  return cached
}

test('headline figures match the session tables', () => {
  const s = room().data
  const rep = s.replay(QUICK)
  const data = rep.toJSON()
  const fig = Object.fromEntries(data.headline.map((f) => [f.key, f]))
  const orders = s.table('orders')
  const paid = orders.filter((o) => o.status === 'paid')
  const gross = paid.reduce((a, o) => a + o.amount, 0)
  assert.ok(Math.abs(fig.gmv_gross.value - gross) < 1e-6 * gross)
  assert.equal(fig.paid_orders.value, paid.length)
  assert.equal(fig.items_sold.value, paid.reduce((a, o) => a + o.quantity, 0))
  const { startMs: a, endMs: b } = s.session
  const views = s
    .table('metrics')
    .filter((m) => m.metric === 'entries' && m.ts_ms >= a && m.ts_ms < b)
    .reduce((x, m) => x + m.value, 0)
  assert.equal(fig.views.value, views)
  assert.ok(Math.abs(fig.gpm.value - (1000 * gross) / views) < 1e-9 * fig.gpm.value)
  assert.equal(fig.gpm.source, 'derived')
  assert.equal(fig.gmv_gross.source, 'raw')
  assert.equal(fig.exposures.value, null)
  assert.match(fig.exposures.missing, /exposure/)
  for (const f of data.headline) assert.equal(f.value === null, typeof f.missing === 'string', f.key)
  assert.ok(data.headline.every((f) => f.history && !f.history.enough))
})

test('moments come split into parts that add up, with their context', () => {
  const data = room().data.replay(QUICK).toJSON()
  assert.ok(data.model, data.modelError)
  assert.ok(data.moments.length > 0 && data.moments.length <= 5)
  for (const m of data.moments) {
    if (m.excess !== null) {
      const sum = m.parts.reduce((x, p) => x + p.value, 0)
      assert.ok(Math.abs(sum - m.excess) <= 1e-6 * Math.max(1, Math.abs(m.excess)))
      assert.equal(m.parts.at(-1).name, 'unexplained')
    }
    for (const u of m.transcript) assert.ok(u.endMs > m.startMs - 60_000 && u.startMs < m.endMs + 60_000)
  }
})

test('history from the store and from sessions in memory agree', async (t) => {
  const store = new vap.Store(join(tempDir(t), 'store'))
  const day = 86_400_000
  const sessions = []
  for (let k = 0; k < 6; k++) {
    const r = vap.simulate({ seed: 30 + k, hours: 0.5, startMs: 1_764_072_000_000 + k * day, sessionId: `s${k}` })
    store.importSession(r.data)
    sessions.push(r.data)
  }
  const rep = store.replay('sim-room', 's5', { attribute: false }).toJSON()
  assert.deepEqual(rep.historySessions, ['s0', 's1', 's2', 's3', 's4'])
  const past = sessions.slice(0, 5).map((s) => s.gmv().gross).sort((x, y) => x - y)
  const h = rep.headline.find((f) => f.key === 'gmv_gross').history
  assert.ok(h.enough)
  assert.equal(h.median, past[2])
  const mem = sessions[5].replay({ attribute: false }, sessions.slice(0, 5)).toJSON()
  assert.deepEqual(mem.headline.find((f) => f.key === 'gmv_gross').history, h)
  const viaDigest = sessions[5].replay({ attribute: false }, sessions.slice(0, 5).map((s) => s.digest())).toJSON()
  assert.deepEqual(viaDigest.headline, mem.headline)
  const early = (await store.replayAsync('sim-room', 's2', { attribute: false })).toJSON()
  assert.equal(early.headline[0].history.enough, false)
  assert.equal(early.model, null)
  const roomRep = store.roomReplay('sim-room', { attribute: false })
  assert.equal(roomRep.sessions.length, 6)
  await assertRejects(store.replayAsync('sim-room', 'nope'), 'VAP_NOT_FOUND')
})

test('tables, views and files', (t) => {
  const rep = room().data.replay(QUICK)
  for (const name of vap.REPLAY_TABLES) assert.ok(Array.isArray(rep.table(name)), name)
  const head = rep.table('headline')
  assert.deepEqual(head.map((r) => r.key), rep.toJSON().headline.map((f) => f.key))
  const qs = rep.table('questions')
  assert.equal(qs.length, rep.toJSON().questions.stats.asked)
  assert.ok(qs.filter((q) => q.answered).every((q) => q.latency_ms >= 0 && q.latency_ms <= 180_000))
  const dir = tempDir(t)
  const paths = rep.writeTables(dir, 'parquet')
  assert.equal(paths.length, vap.REPLAY_TABLES.length)
  assert.ok(paths.every((p) => existsSync(p)))
  rep.writeTables(join(dir, 'csv'), 'csv')
  assert.match(readFileSync(join(dir, 'csv', 'headline.csv'), 'utf8'), /^key,label,label_en/)
  assertVapError(() => rep.table('nope'), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => rep.writeTables(dir, 'xlsx'), 'VAP_INVALID_ARGUMENT')
  const op = rep.view('operator')
  const an = rep.view('anchor')
  const fc = rep.view('fieldControl')
  assert.ok('headline' in op && !('anchors' in op))
  assert.ok('anchors' in an && 'questions' in an && !('headline' in an))
  assert.ok('promotions' in fc && !('questions' in fc))
  assertVapError(() => rep.view('boss'), 'VAP_INVALID_ARGUMENT')
})

test('subtitles follow the recording clock', () => {
  const s = room().data
  assertVapError(() => s.subtitles(), 'VAP_INVALID_ARGUMENT')
  const start = s.session.startMs
  const withRec = vap.fromTables(
    {
      vap_format: 1,
      room: s.room,
      session: { ...s.session, recordings: [{ path: 'rec.mp4', offset_ms: start, duration_ms: 600_000 }] },
      metrics: s.metrics,
    },
    Object.fromEntries(s.tableNames.map((n) => [n, s.table(n)])),
  )
  const srt = withRec.subtitles()
  const inside = s.table('utterances').filter((u) => u.start_ms >= start && u.start_ms < start + 600_000).length
  assert.equal(srt.split(' --> ').length - 1, inside)
  assert.ok(withRec.subtitles({ stream: 'comments', format: 'vtt', offset: '2s' }).startsWith('WEBVTT'))
  const e = assertVapError(() => withRec.subtitles({ stream: 'video', commentDuration: 0 }), 'VAP_INVALID_ARGUMENT')
  assert.match(e.message, /stream/)
})

function labelled(name) {
  const text = readFileSync(join(here, '..', 'fixtures', 'questions', name), 'utf8')
  const rows = []
  let field = ''
  let row = []
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if (field || row.length) rows.push([...row, field])
  const [header, ...body] = rows
  return body.filter((r) => r.length === header.length).map((r) => Object.fromEntries(header.map((h, k) => [h, r[k]])))
}

for (const [name, floor] of [['labelled.csv', 0.9], ['dev.csv', 0.9], ['heldout.csv', 0.85]]) {
  test(`questions: precision and recall on ${name}`, () => {
    const rows = labelled(name)
    assert.ok(rows.length >= 300)
    let tp = 0
    let fp = 0
    let fn = 0
    for (const r of rows) {
      const got = vap.questionKind(r.text) !== null
      const want = r.is_question === '1'
      if (got && want) tp++
      else if (got) fp++
      else if (want) fn++
    }
    const precision = tp / (tp + fp)
    const recall = tp / (tp + fn)
    assert.ok(precision >= floor && recall >= floor, `${precision} ${recall}`)
  })
}

test('questions are typed, linked and answered', () => {
  const qs = room().data.questions({ answerWindow: '2min' })
  assert.ok(qs.length > 0)
  assert.ok(qs.every((q) => ['price', 'stock_size', 'usage', 'shipping', 'which_product', 'other'].includes(q.kind)))
  assert.ok(qs.some((q) => q.answer !== null))
  assert.ok(qs.filter((q) => q.answer).every((q) => q.answer.latencyMs >= 0 && q.answer.latencyMs <= 120_000))
  assert.equal(vap.questionKind('3号链接多少钱'), 'price')
  assert.equal(vap.questionKind('这是什么神仙操作'), null)
})

test('bad options are listed together with the core\'s words', () => {
  const s = room().data
  const e = assertVapError(() => s.replay({ follow: '0s', minHistory: 0 }), 'VAP_INVALID_ARGUMENT')
  assert.match(e.message, /follow/)
  assert.match(e.message, /min_history/)
  assertVapError(() => s.replay({ tpo: 3 }), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => s.replay({}, [42]), 'VAP_INVALID_ARGUMENT')
  assert.equal(vap.optionDefaults('replay').top, 5)
})
