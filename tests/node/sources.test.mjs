// Importers of platform exports and capture logs (tests/fixtures/imports).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { vap } from './helpers.mjs'

const FX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'imports')
const fx = (n) => path.join(FX, n)
const START = 1795608000000
const HOUR = 3600000

test('formats are detected from the content', () => {
  assert.equal(vap.detectSourceFormat(fx('compass_sessions.xlsx')), 'compass_sessions')
  assert.equal(vap.detectSourceFormat(fx('douyin_capture.jsonl')), 'douyin_capture')
  assert.equal(vap.detectSourceFormat(fx('tiktok_shop_minutes.json')), 'tiktok_shop_minutes')
})

test('readCompass merges the exports and its checks agree', () => {
  const s = vap.readCompass(
    { trend: fx('compass_trend.json'), orders: fx('compass_orders.json'), sessions: fx('compass_sessions.csv'), traffic: fx('compass_traffic.json') },
    { roomId: 'acme' },
  )
  assert.equal(s.session.startMs, START)
  assert.equal(s.session.endMs, START + 2 * HOUR)
  assert.equal(s.session.id, '2026-11-25-2000')
  // Paid orders once each, counted here from the file.
  const items = JSON.parse(readFileSync(fx('compass_orders.json'), 'utf8')).data.live_order_stream
  const paid = new Map()
  for (const it of items) if (it.order_status === 3) paid.set(it.order_id, it.pay_amount)
  const orders = s.table('orders')
  assert.equal(orders.length, paid.size)
  const sum = [...paid.values()].reduce((a, b) => a + b, 0)
  assert.ok(Math.abs(orders.reduce((a, o) => a + o.amount, 0) - sum) < 0.01)
  const r = s.sourceReport
  assert.ok(r.checks.length > 0 && r.checks.every((c) => c.agrees))
  assert.ok(r.fields.some((f) => f.field === 'gpm' && f.used === 'ignored'))
  assert.equal(s.session.facts.viewers, 30101)
  assert.equal(s.loadReport, null)
})

test('a capture log, sync and async alike, with its gap and duplicates', async () => {
  const a = vap.readCaptureLog(fx('douyin_capture.jsonl'))
  const b = await vap.readSourcesAsync([{ path: fx('douyin_capture.jsonl'), format: 'douyin_capture' }])
  assert.equal(a.table('comments').length, b.table('comments').length)
  const lines = readFileSync(fx('douyin_capture.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  const chats = new Set(lines.filter((l) => l.method === 'WebcastChatMessage').map((l) => l.common.msgId))
  assert.equal(a.table('comments').length, chats.size)
  const ids = new Set(lines.map((l) => l.common.msgId))
  assert.equal(a.sourceReport.duplicates, lines.length - ids.size)
  assert.equal(a.session.gaps.length, 1)
  assert.deepEqual(a.session.gaps, a.sourceReport.gaps)
})

test('readTiktokShop reads both per-minute shapes alike', () => {
  const a = vap.readTiktokShop({ minutes: fx('tiktok_shop_minutes.json'), session: fx('tiktok_shop_session.json') }, { timezone: 'UTC' })
  const b = vap.readTiktokShop({ minutes: fx('tiktok_shop_minutes_alt.json') }, { timezone: 'UTC' })
  const gmv = (s) => s.table('metrics').filter((m) => m.metric === 'gmv').reduce((x, m) => x + m.value, 0)
  assert.ok(gmv(a) > 0 && Math.abs(gmv(a) - gmv(b)) < 0.01)
  assert.ok(Math.abs(a.session.facts.gmv - gmv(a)) < 0.01)
})

test('readCompassSessions reads the XLSX list', () => {
  const { sessions, report } = vap.readCompassSessions(fx('compass_sessions.xlsx'))
  assert.equal(sessions.length, 3)
  assert.equal(sessions[2].startMs, START)
  assert.equal(sessions[2].facts.exposure_viewers, 157000)
  assert.ok(report.fields.some((f) => f.used === 'kept'))
})

test('bad input: typed errors naming file, row and field', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vap-src-'))
  const p = path.join(dir, 'orders.json')
  writeFileSync(p, JSON.stringify({ data: { live_order_stream: [
    { order_id: '1', order_status: 3, order_ts: 'soon', product_id: 'p' },
    { order_id: '2', order_status: 3, order_ts: 1795608001, product_id: 'p', item_num: -1 },
  ] } }))
  assert.throws(() => vap.readSources([p]), (e) => {
    assert.equal(e.code, 'VAP_VALIDATION')
    assert.deepEqual(e.problems.map((q) => [q.row, q.field]), [[1, 'order_ts'], [2, 'item_num']])
    return true
  })
  assert.throws(() => vap.readSources([{ path: p, format: 'compass_orderz' }]), { code: 'VAP_INVALID_ARGUMENT' })
  assert.throws(() => vap.readCompass({ trendz: p }), /unknown file role 'trendz'/)
  assert.throws(() => vap.readCaptureLog(fx('compass_trend.json')), { code: 'VAP_FORMAT' })
  assert.throws(() => vap.readSources([p], { timezone: 'Mars/Base' }), { code: 'VAP_INVALID_ARGUMENT' })
  await assert.rejects(vap.readSourcesAsync([path.join(dir, 'missing.json')]), { code: 'VAP_IO' })
})

test('each source clock is reported against the platform data and applied only when asked', () => {
  const s = vap.readSources([fx('compass_trend.json'), fx('douyin_capture.jsonl')])
  const [o] = s.sourceReport.offsets
  assert.equal(o.source, 'douyin_capture')
  assert.equal(o.reference, 'compass')
  assert.equal(o.applied, false)
  assert.ok(o.offsetMs !== null && o.z >= 4)
  assert.ok(Math.abs(o.offsetMs) <= 5000)
  const moved = vap.readSources([fx('compass_trend.json'), fx('douyin_capture.jsonl')], { applyOffsets: true, maxOffset: '90s' })
  assert.equal(moved.sourceReport.offsets[0].applied, true)
  assert.throws(() => vap.readSources([fx('douyin_capture.jsonl')], { maxOffset: '1s' }), { code: 'VAP_INVALID_ARGUMENT' })
  const gap = s.session.gaps.find((g) => g.source === 'douyin_capture')
  assert.ok(gap.streams.includes('comments') && gap.streams.includes('online_viewers'))
})

test("TikTok Shop's per-session CSV download reads as its JSON", () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vap-tts-'))
  const csv = path.join(dir, 'live_performance.csv')
  writeFileSync(
    csv,
    'LIVE name,GMV,SKU orders,Customers,Click-to-order rate,ACU,PCU,Viewers,Views,Avg. viewing duration,Comments,New followers,Product impressions,Product clicks,Click-through rate\n' +
      'Winter sale,"2,429.31",55,53,5.6%,399,518,4802,6579,62,452,24,"13,025",978,7.5%\n'
  )
  assert.equal(vap.detectSourceFormat(csv), 'tiktok_shop_session')
  const minutes = fx('tiktok_shop_minutes.json')
  const a = vap.readTiktokShop({ minutes, session: fx('tiktok_shop_session.json') })
  const b = vap.readTiktokShop({ minutes, session: csv })
  for (const [k, v] of Object.entries(a.session.facts)) assert.equal(b.session.facts[k], v, k)
  assert.equal(b.session.facts['LIVE name'], 'Winter sale')
})
