// Type-level tests of index.d.ts, checked by `npx tsc --noEmit -p tsconfig.json`
// (not run). Each `@ts-expect-error` fails the check if the types get looser.
import * as vap from '../../index.js'
import type { ErrorCode, Order, Comment, SessionInfo, SimResult, StoredRow, Truth, VapError } from '../../index.js'

const res: SimResult = vap.simulate({ seed: 1, hours: 0.5, roomId: 'r', clockOffsetMs: null })
const orders: Order[] = res.data.table('orders')
const comments: Comment[] = res.data.table('comments')
const truth: Truth = res.truth
const amount: number = orders[0].amount
const status: 'paid' | 'refunded' = orders[0].status
const series: number[][] = truth.series.factors
const stored: StoredRow<'orders'>[] = new vap.Store('/tmp/x').readTable('r', 's', 'orders')
const key: string = stored[0].room_id
const infos: SessionInfo[] = new vap.Store('/tmp/x').sessions()
const promise: Promise<SimResult> = vap.simulateAsync()
const code: ErrorCode = 'VAP_VALIDATION'

function describe(e: VapError): string {
  return e.problems.map((p) => `${p.file}:${p.row ?? '-'}:${p.field ?? '-'} ${p.message}`).join('\n') + e.code
}

// @ts-expect-error unknown table names are rejected by the types
res.data.table('order')
// @ts-expect-error config fields are camelCase
vap.simulate({ room_id: 'x' })
// @ts-expect-error formats are a closed set
res.data.writeDir('/tmp/x', 'xlsx')
// @ts-expect-error error codes are a closed set
const bad: ErrorCode = 'VAP_OTHER'
// @ts-expect-error Session has no public constructor
new vap.Session()

vap.fromTables(
  { vap_format: 1, room: { id: 'r', name: 'R' }, session: { id: 's', start_ms: 0, end_ms: 1000 } },
  { orders: [{ id: 'o', ts_ms: '1970-01-01T00:00:00Z', product_id: 'p', quantity: 1, amount: 1, status: 'paid' }] },
)
// a manifest as Session.manifest() gives it (camelCase) is taken back too
const again: vap.Session = vap.fromTables(res.data.manifest(), {})
// @ts-expect-error a manifest is in one form or the other, not both at once
vap.fromTables({ vapFormat: 1, room: { id: 'r', name: 'R' }, session: { id: 's', start_ms: 0, endMs: 1000 } }, {})
// toJSON is the core's canonical form (snake_case)
const canonicalStart: number = res.data.toJSON().session.start_ms
// @ts-expect-error results are camelCase
void res.data.session.start_ms
void again
void canonicalStart

export { orders, comments, amount, status, series, key, infos, promise, code, describe, bad }

// ---- alignment
const tl: vap.Timeline = res.data.timeline({ step: '10s', flow: 'point', lexicon: { u: ['限时'] } })
const col: Float64Array = tl.column('gmv')
const info: vap.ColumnInfo[] = tl.columnInfo
const derived: string = tl.derive('orders', { kind: 'adstock', halfLifeBins: 3 })
const off: vap.ClockOffset = res.data.estimateTranscriptOffset({ maxLag: '60s' })
const offMs: number | null = off.offsetMs
const joined: Record<string, unknown>[] = vap.asofJoin([{ t: 1 }], [{ t: 0, v: 1 }], { on: 't', direction: 'nearest' })
const roomTl: Promise<vap.Timeline> = res.data.timelineAsync()
// @ts-expect-error flow modes are a closed set
res.data.timeline({ flow: 'smeared' })
// @ts-expect-error transforms need their parameters
tl.derive('orders', { kind: 'adstock' })
// @ts-expect-error estimateOffset needs a step
vap.estimateOffset([1], [1], {})
export const _alignUse = [col, info, derived, offMs, joined, roomTl]

// ---- moments
const moments: vap.Moment[] = res.data.moments({ step: '30s', threshold: 3.5 })
const streams: vap.Moved[] = moments[0].moved
const firstMoved: number = streams.length > 0 ? streams[0].change : 0
void firstMoved
const seg: vap.Segmentation = vap.pelt([1, 2, 3], { cost: 'poisson', penalty: 'bic' })
const evs: vap.MomentEvent[] = vap.momentEvents(vap.topMoments(moments, 5, 'order_gmv'))
// @ts-expect-error costs are a closed set
vap.pelt([1], { cost: 'cauchy' })
export const _detectUse = [seg, evs]

// ---- replays
const rep: vap.Replay = res.data.replay({ top: 3, model: { bootstrap: 10 }, questions: { answerWindow: '2min' } }, [res.data])
const data: vap.ReplayData = rep.toJSON()
const gpm: vap.Figure | undefined = data.headline.find((f) => f.key === 'gpm')
const asAnchor = rep.view('anchor')
const rows: Record<string, unknown>[] = rep.table('products')
const qkind: vap.QuestionKind | null = vap.questionKind('多少钱')
const rtables: string[] = vap.replayTables()
const frozen: readonly string[] = vap.REPLAY_TABLES
const qs: vap.Question[] = res.data.questions({ focusGrace: '1min' })
const dg: vap.SessionDigest = res.data.digest()
const srt: string = res.data.subtitles({ stream: 'comments', format: 'vtt', offset: '2s' })
// @ts-expect-error subtitle formats are a closed set
res.data.subtitles({ format: 'ass' })
// @ts-expect-error roles are a closed set
rep.view('boss')
export const _replayUse = [gpm, asAnchor, rows, qkind, rtables, frozen, qs, dg, srt]
export async function replayFromStore(store: vap.Store): Promise<unknown[]> {
  const r: vap.Replay = store.replay('room', 's1', { attribute: false })
  const ra: vap.Replay = await store.replayAsync('room', 's1')
  const room: vap.RoomReplay = store.roomReplay('room')
  const stored: vap.Playbook = store.playbook('room', { model: { bootstrap: 50 } })
  const storedAsync: Promise<vap.Playbook> = store.playbookAsync('room')
  const roomPage: string = store.roomHtml('room', { lang: 'en' }, { attribute: false })
  const roomFile: string = store.writeRoomHtml('room', '/tmp/x/room.html')
  const tz: string = room.timezone + roomPage + roomFile
  const files: string[] = r.writeTables('/tmp/x', 'csv')
  const report: vap.ReportOptions = { lang: 'en', curves: ['order_gmv', 'gpm'], videoBeside: true, fragment: false }
  const page: string = r.toHtml(report)
  const written: string = r.writeHtml('/tmp/x/report.html', { lang: 'zh', contextLines: 6, listQuestions: 10, stills: true, stillWidth: 240 })
  const clips: vap.ClipEntry[] = r.clips('/tmp/x/clips', { top: 3, before: '5s', after: 5000, maxLength: '2min', exact: false, format: 'mp4', mediaDir: null })
  const firstFile: string = clips[0].file
  const code: number = vap.cli(['--version'])
  const one: vap.Clip = vap.clip('/tmp/x/live.mp4', 1000, 41000, '/tmp/x/c.mp4', { exact: true })
  const mediaDir: string | null = r.toJSON().mediaDir
  const overTime: number = r.toJSON().model?.overTime.length ?? 0
  // @ts-expect-error clip's options are { exact } only
  vap.clip('/tmp/x/live.mp4', 0, 1000, '/tmp/x/c.mp4', { fast: true })
  return [r, ra, room, tz, code, files, page, written, firstFile, one, mediaDir, overTime, stored, await storedAsync]
}

// ---- attribution
const fit: vap.Attribution = res.data.attribute({ timeline: { step: '30s' }, bootstrap: 20, factors: ['explain:any', { column: 'speech:answer', carryover: ['30s', '1min'], carryoverKind: 'hold', sign: 'positive' }] })
const coefs: vap.Coefficient[] = fit.coefficients
const parts: vap.Part[] = fit.decomposition.totals()
const split: vap.MomentAttribution = fit.decomposition.moment(moments[0], { window: '20min' })
const applied: vap.Decomposition = fit.model.apply(res.data.attributionTimeline())
const glm: Promise<vap.Attribution> = vap.attributeAsync(tl, { form: 'log_link', target: 'orders', estimator: 'ols' })
const own: vap.Timeline = vap.timelineFromColumns({ y: [1, 2], x: new Float64Array([0, 1]) }, { step: '1s' })
// @ts-expect-error forms are a closed set
vap.attribute(tl, { form: 'tobit' })
// @ts-expect-error signs are a closed set
vap.attribute(tl, { factors: [{ column: 'x', sign: 'up' }] })
const paid: vap.PaidTraffic | null = vap.attribute(tl, { ads: { spend: 'ad_spend', carryover: ['30s', 90_000] } }).paid
const roi: vap.Interval | null = paid?.roi ?? null
const perYuan: number | undefined = paid?.entries?.perYuan.value
const momentAds: vap.MomentAds | null = data.moments[0].ads
const adsSummary: vap.AdsSummary | null = data.model?.ads ?? null
const adsRoom = vap.simulate({ adSpendPerHour: 20_000, entriesPerYuan: 0.5, adHalfLifeS: 90 })
const plantedRoi: number | undefined = adsRoom.truth.ads ? adsRoom.truth.ads.paidGmv / adsRoom.truth.ads.spend : undefined
// @ts-expect-error ads options are typed
vap.attribute(tl, { ads: { spend: 3 } })
export const _attributeUse = [coefs, parts, split, applied, glm, own, paid, roi, perYuan, momentAds, adsSummary, adsRoom, plantedRoi]

// ---- recordings
const recInfo: vap.RecordingInfo = vap.probe('a.mp4')
const kind: vap.StreamKind = recInfo.streams[0].kind
const pcm: Float32Array = vap.decodeAudio('a.mp4', { startMs: 0, endMs: 1000 })
const ac = new AbortController()
const tr: Promise<vap.Transcript> = vap.transcribe('a.mp4', { model: 'm.bin', language: 'en', offsetMs: 0, chunkMs: 20_000, signal: ac.signal }, (p: vap.TranscribeProgress) => p.done < 3)
const trSync: vap.Transcript = vap.transcribeSync('a.mp4', { model: 'm.bin', language: 'ja' }, (p) => {
  void p.positionMs
})
const rtf: number = trSync.stats.realTimeFactor
const st = new vap.Store('/tmp/x')
const ref: vap.VideoRef = st.registerRecording('r', 's', 'a.mp4', { offsetMs: 0 })
const stored2: Promise<vap.Transcript> = st.transcribe('r', 's', { model: 'm.bin' })
const est: vap.ClockOffset = st.estimateRecordingOffset('r', 's', 0, { maxLag: '30s', step: 2000 })
const moved: vap.Session = st.setRecordingOffset('r', 's', 0, 1_000)
const where: vap.Located | null = moved.locate(1_500)
const idx: vap.VideoIndex = vap.videoIndex('a.mp4')
const frames: Float64Array = idx.framesMs
const at: number | null = idx.frameAt(1_000)
const still: vap.Still = vap.stillFrame('a.mp4', 1_000, { maxWidth: 80 })
const rgb: Buffer = still.rgb
// @ts-expect-error the PNG is there only when asked for
const noPng: Buffer = still.png
const png: Buffer = vap.stillFrame('a.mp4', 1_000, { png: true }).png
const sstill: vap.SessionStill = st.still('r', 's', 1_500)
const spng: Buffer = st.still('r', 's', 1_500, { maxWidth: 80, png: true }).png
const chunks: vap.AudioChunks = vap.audioChunks('a.mp4', { chunkMs: 7_000, startMs: 0 })
for (const c of chunks) {
  const s0: number = c.startMs
  const x: Float32Array = c.samples
  void s0, x
}
const next: IteratorResult<vap.AudioChunk, undefined> = chunks.next()
// @ts-expect-error options are camelCase
vap.audioChunks('a.mp4', { chunk_ms: 1 })
const codes: readonly vap.ErrorCode[] = vap.errorCodes()
const names: vap.TableName[] = vap.tableNames()
vap.setWhisperLog('stderr', 'warn')
vap.setWhisperLog('silent')
// @ts-expect-error the model is required
vap.transcribe('a.mp4', { language: 'en' })
// @ts-expect-error options are camelCase
vap.transcribe('a.mp4', { model: 'm.bin', chunk_ms: 1 })
// @ts-expect-error stored sessions take their offsets from the recordings
st.transcribe('r', 's', { model: 'm.bin', offsetMs: 0 })
// @ts-expect-error log modes are a closed set
vap.setWhisperLog('loud')
// @ts-expect-error a silent log has no level
vap.setWhisperLog('silent', 'info')
// @ts-expect-error VideoIndex has no public constructor
new vap.VideoIndex()
export const _mediaUse = [kind, pcm, tr, rtf, ref, stored2, est, where, frames, at, png, sstill, sstill.positionMs,
  rgb, noPng, spng, next, codes, names]

// ---- the synchronous names of the calls that have a Promise form
export async function _syncNames(s: vap.Session, tl: vap.Timeline, st: vap.Store, r: vap.Replay, live: vap.LiveSession): Promise<unknown[]> {
  const sim: vap.SimResult = vap.simulateSync({ seed: 1 })
  const loaded: vap.Session = vap.loadDirSync('/tmp/x', { pseudonymizeKey: 'k' })
  const read: vap.Session = vap.readSourcesSync(['/tmp/a.json'], { roomId: 'acme' })
  const book: vap.Playbook = vap.playbookSync([s, loaded], { minSessions: 2 })
  const room: vap.Timeline = vap.roomTimelineSync([s], { step: '1min' })
  const fit: vap.Attribution = vap.attributeSync(tl, { bootstrap: 0 })
  const own: [vap.Timeline, vap.PlanReview, vap.Moment[], vap.Replay] = [
    s.timelineSync({ step: '1s' }), s.planVsActualSync(), s.momentsSync(), s.replaySync({}, [s.digest()]),
  ]
  st.importSessionSync(s, { replace: true })
  const stored: [vap.Session, vap.Session, vap.Replay, vap.RoomReplay, vap.Playbook, string, vap.Timeline, vap.Attribution] = [
    st.importDirSync('/tmp/x'), st.loadSync('r', 's'), st.replaySync('r', 's'), st.roomReplaySync('r'), st.playbookSync('r'),
    st.roomHtmlSync('r'), st.roomTimelineSync('r'), st.fitRoomModelSync('r', { name: 'm' }),
  ]
  const replayed: [string, string, vap.ClipEntry[]] = [r.toHtmlSync(), r.writeHtmlSync('/tmp/x.html'), r.clipsSync('/tmp/clips')]
  const update: vap.LiveUpdate = live.appendSync({ type: 'tick', tsMs: 0 })
  // @ts-expect-error the synchronous form returns no Promise
  const notAPromise: Promise<vap.Session> = vap.loadDirSync('/tmp/x')
  return [sim, loaded, read, book, room, fit, own, stored, replayed, update, notAPromise]
}

// Every export is called (or named) here at least once, so that `tsc --noEmit`
// checks its declaration; tests/node/exports.test.mjs fails when one is missing.
export async function _everyExport(s: vap.Session, tl: vap.Timeline): Promise<unknown[]> {
  const loaded: vap.Session = vap.loadDir('/tmp/x', { pseudonymizeKey: 'k', outsideToleranceMs: 60_000 })
  const loadedAsync: Promise<vap.Session> = vap.loadDirAsync('/tmp/x')
  const imported: vap.Session = vap.readSources(['/tmp/a.json', { path: '/tmp/b.jsonl', format: 'douyin_capture' }], { roomId: 'acme', captureGap: '90s', start: '2026-11-25T20:00:00+08:00' })
  const importedAsync: Promise<vap.Session> = vap.readSourcesAsync(['/tmp/a.json'])
  const compass: vap.Session = vap.readCompass({ trend: '/tmp/t.json', sessions: '/tmp/l.xlsx' }, { timezone: 'Asia/Shanghai' })
  const capture: vap.Session = vap.readCaptureLog('/tmp/c.jsonl')
  const shop: vap.Session = vap.readTiktokShop({ minutes: '/tmp/m.json' })
  const list: { sessions: vap.SessionFacts[]; report: vap.SourceReport } = vap.readCompassSessions('/tmp/l.csv')
  const fmt: vap.SourceFormat = vap.detectSourceFormat('/tmp/a.json')
  const sreport: vap.SourceReport | null = imported.sourceReport
  const gaps: vap.DataGap[] | undefined = imported.session.gaps
  const offsets: vap.SourceOffset[] | undefined = sreport?.offsets
  const gapStreams: string[] | undefined = gaps?.[0]?.streams
  const moved = vap.readSources(['a.json'], { applyOffsets: true, maxOffset: '90s' })
  const room: vap.Timeline = vap.roomTimeline([s], { step: '1min' })
  const roomAsync: Promise<vap.Timeline> = vap.roomTimelineAsync([s], { step: 60_000 })
  const folded: string = vap.fold('限時秒殺')
  const lex = vap.builtinLexicon()
  const counts: Record<string, number> = vap.lexiconCount({ urgency: ['秒杀'] }, '秒杀')
  const factors = vap.defaultFactors(tl)
  const atl: vap.Timeline = vap.attributionTimeline([s])
  const model: vap.RoomModel = vap.RoomModel.fromJson('{}')
  const summary: string = vap.RoomPlan.summarise(atl, { form: 'exposure' })
  const plan: vap.RoomPlan = vap.RoomPlan.fromSummaries([summary], { bootstrap: 0 })
  const planAgain: vap.RoomPlan = vap.RoomPlan.fromJson(plan.toJsonString())
  const gram: Buffer = planAgain.gram(atl)
  const roomFit: vap.RoomFit = plan.fit([gram])
  const roomFitAsync: Promise<vap.RoomFit> = plan.fitAsync([gram], { signal: new AbortController().signal })
  const fitSummary: vap.RoomFitSummary = roomFit.toObject()
  const fitModel: vap.RoomModel = roomFit.model
  const fitCoefficients: vap.Coefficient[] = roomFit.coefficients
  const fitWarnings: string[] = [...roomFit.warnings, ...planAgain.sessions, String(plan.toObject()), String(roomFit.cv.length)]
  const stFit: vap.RoomFit = st.fitRoomModelBySessions('r', { form: 'exposure', name: 'm' })
  const stFitAsync: Promise<vap.RoomFit> = st.fitRoomModelBySessionsAsync('r', { onProgress: () => {} })
  const stFitSync: vap.RoomFit = st.fitRoomModelBySessionsSync('r')
  const fitSync: vap.RoomFit = plan.fitSync([gram])
  const d = vap.dynp([1, 2, 3], { penalty: 'bic' })
  const b = vap.binseg([1, 2, 3], { cost: 'normal', minSize: 2 })
  const top: vap.Moment[] = vap.topMoments([], 3)
  const top2: vap.Moment[] = vap.topMoments([], { k: 3, metric: 'orders' })
  const ev = vap.momentEvents([], '2min')
  vap.setNumThreads(2)
  const n: number = vap.numThreads()
  const v: string = vap.version()
  const sets: vap.OptionSet[] = vap.optionSets()
  const all: readonly vap.OptionSet[] = vap.OPTION_SETS
  const defaults: Record<string, unknown> = vap.optionDefaults('moments')
  const resolved: Record<string, unknown> = vap.resolveOptions('timeline', { step: '1min', perProduct: false })
  const codes: readonly vap.ErrorCode[] = vap.ERROR_CODES
  const tables: readonly vap.TableName[] = vap.TABLE_NAMES
  const sheet: vap.RunSheet = vap.readRunSheet([{ 时间段: '20:00-20:10', 商品: 'p01' }], { timezone: 'Asia/Shanghai' })
  const sheetCsv: string = vap.runSheetToCsv(sheet)
  const withPlan: vap.Session = loaded.withPlan(vap.readRunSheet(Buffer.from(sheetCsv)))
  const attached: vap.RunSheet | null = withPlan.plan
  const review: vap.PlanReview = withPlan.planVsActual({ tolerance: '3min', attribute: false })
  const reviewAsync: vap.PlanReview = await withPlan.planVsActualAsync({ model: { bootstrap: 0 } })
  const firstStatus: vap.Deviation['status'] | undefined = review.items[0]?.status
  const book: vap.Playbook = vap.playbook([loaded, withPlan], { minSessions: 2, lateAfter: '20min' })
  const bookAsync: vap.Playbook = await vap.playbookAsync([loaded, withPlan])
  const draftCsv: string = vap.runSheetToCsv(book.draft) + vap.playbookHtml(book, { lang: 'en', fragment: true })
  const live = new vap.LiveSession(loaded, { lateness: '1min', alerts: { backlog: 3, kinds: ['question_backlog'] } }, model)
  live.on('alert', (a: vap.Alert) => a.messageZh)
  live.on('moment', (m: vap.Moment) => m.startMs)
  const upd: vap.LiveUpdate = live.append([{ type: 'comment', ts: new Date(), text: '多少钱' }, { type: 'tick', tsMs: 0 }])
  const updAsync: vap.LiveUpdate = await live.appendAsync({ type: 'sample', metric: 'online_viewers', ts: 1, value: 2 })
  const beat: vap.LiveUpdate = live.advance(new Date())
  const follower = new vap.CaptureFollower('capture.jsonl', { format: 'douyin', fromEnd: true })
  const polled: vap.LiveEvent[] = follower.poll()
  const followed: vap.LiveUpdate = live.follow(follower)
  const liveState: [vap.Timeline, vap.Moment[], vap.Alert[], vap.Decomposition | null, vap.Session, vap.Ms | null, vap.Ms, number, number] = [
    live.timeline(), live.moments(), live.alerts(), live.decomposition(), live.data(), live.watermarkMs, live.stepMs, live.droppedText, follower.lines + follower.skipped + follower.repeats,
  ]
  const fed = vap.liveFeed(loaded, 1000)
  // @ts-expect-error option sets are a closed set
  vap.optionDefaults('nothing')
  try {
    vap.__panicForTests('boom')
  } catch {
    // expected
  }
  return [loaded, await loadedAsync, imported, await importedAsync, compass, capture, shop, list, fmt, sreport, gaps, offsets, gapStreams, moved, room, await roomAsync, folded, lex, counts, factors, atl, model, fitSummary, fitModel, fitCoefficients, fitWarnings, stFit, await stFitAsync, stFitSync, fitSync, await roomFitAsync, d, b,
    top, top2, ev, n, v, sets, all, defaults, resolved, codes, tables, attached, reviewAsync, firstStatus, bookAsync, draftCsv, upd, updAsync, beat, polled, followed, liveState, fed]
}
