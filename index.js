// vap: live-stream e-commerce analytics. Public entry point of the Node package.
//
// The native addon (built by `napi build`, loaded by the generated native.js)
// does all the work; this file only re-exports it, by name, so that a symbol
// missing from the addon fails loudly here and in tests/node/exports.test.mjs.
'use strict'

const { EventEmitter } = require('node:events')
const native = require('./native.js')

/** Error codes carried by every error vap throws (`error.code`), from the core. */
const ERROR_CODES = Object.freeze(native.errorCodes())

/** The tables of a session, in write order, from the core. */
const TABLE_NAMES = Object.freeze(native.tableNames())

/** The names of vap's option sets (`optionDefaults(name)`), from the core. */
const OPTION_SETS = Object.freeze(native.optionSets())

/** The names of a replay's tables, from the core. */
const REPLAY_TABLES = Object.freeze(native.replayTables())

// Times of live events may be `Date`s: sent as epoch ms (camelCase names,
// the core's snake_case ones, and the short ones).
const TIME_KEYS = ['ts', 'tsMs', 'ts_ms', 'start', 'startMs', 'start_ms', 'end', 'endMs', 'end_ms']

function plainEvent(e) {
  if (e === null || typeof e !== 'object') return e
  let out = e
  for (const k of TIME_KEYS) {
    if (e[k] instanceof Date) {
      if (out === e) out = { ...e }
      out[k] = e[k].getTime()
    }
  }
  return out
}

const plainEvents = (events) => (Array.isArray(events) ? events.map(plainEvent) : plainEvent(events))

/**
 * A live session (the core's `vap_core::live`) as an `EventEmitter`: every
 * update emits `'moment'` for each moment new to the list, `'alert'` for
 * each alert fired, then `'update'` with the whole update. The native half
 * does the work; this class only converts `Date`s and emits.
 */
class LiveSession extends EventEmitter {
  #native

  constructor(session, options, model) {
    super()
    this.#native = new native.LiveSession(session, options ?? null, model ?? null)
  }

  #emitted(update) {
    for (const m of update.newMoments) this.emit('moment', m)
    for (const a of update.alerts) this.emit('alert', a)
    this.emit('update', update)
    return update
  }

  append(events) {
    return this.#emitted(this.#native.append(plainEvents(events)))
  }

  async appendAsync(events) {
    return this.#emitted(await this.#native.appendAsync(plainEvents(events)))
  }

  advance(nowMs) {
    return this.#emitted(this.#native.advance(nowMs instanceof Date ? nowMs.getTime() : nowMs))
  }

  follow(follower) {
    return this.#emitted(this.#native.follow(follower))
  }

  timeline() {
    return this.#native.timeline()
  }

  moments() {
    return this.#native.moments()
  }

  alerts() {
    return this.#native.alerts()
  }

  decomposition() {
    return this.#native.decomposition()
  }

  data() {
    return this.#native.data()
  }

  get watermarkMs() {
    return this.#native.watermarkMs
  }

  get stepMs() {
    return this.#native.stepMs
  }

  get droppedText() {
    return this.#native.droppedText
  }
}

/**
 * Every heavy call `x` comes with a Promise form `xAsync` that runs off the
 * event loop; `xSync` is `x` under its explicit name (the same function),
 * added here to every export and every exported class's prototype that has
 * an `xAsync` (not where `xSync` exists already: `transcribe` is the Promise
 * form, `transcribeSync` its synchronous one).
 */
function addSyncNames(target) {
  for (const name of Object.getOwnPropertyNames(target)) {
    if (!name.endsWith('Async') || name === 'Async') continue
    const base = name.slice(0, -'Async'.length)
    const sync = `${base}Sync`
    const d = Object.getOwnPropertyDescriptor(target, base)
    if (!d || typeof d.value !== 'function' || Object.getOwnPropertyDescriptor(target, sync)) continue
    Object.defineProperty(target, sync, d)
  }
}

module.exports = {
  Session: native.Session,
  LiveSession,
  CaptureFollower: native.CaptureFollower,
  liveFeed: native.liveFeed,
  Store: native.Store,
  simulate: native.simulate,
  simulateAsync: native.simulateAsync,
  loadDir: native.loadDir,
  loadDirAsync: native.loadDirAsync,
  fromTables: native.fromTables,
  readSources: native.readSources,
  readSourcesAsync: native.readSourcesAsync,
  readCompass: native.readCompass,
  readCaptureLog: native.readCaptureLog,
  readTiktokShop: native.readTiktokShop,
  readCompassSessions: native.readCompassSessions,
  detectSourceFormat: native.detectSourceFormat,
  readRunSheet: native.readRunSheet,
  runSheetToCsv: native.runSheetToCsv,
  playbook: native.playbook,
  playbookAsync: native.playbookAsync,
  playbookHtml: native.playbookHtml,
  Timeline: native.Timeline,
  roomTimeline: native.roomTimeline,
  roomTimelineAsync: native.roomTimelineAsync,
  estimateOffset: native.estimateOffset,
  asofJoin: native.asofJoin,
  fold: native.fold,
  builtinLexicon: native.builtinLexicon,
  lexiconCount: native.lexiconCount,
  attribute: native.attribute,
  attributeAsync: native.attributeAsync,
  defaultFactors: native.defaultFactors,
  attributionTimeline: native.attributionTimeline,
  timelineFromColumns: native.timelineFromColumns,
  Attribution: native.Attribution,
  Decomposition: native.Decomposition,
  RoomModel: native.RoomModel,
  RoomPlan: native.RoomPlan,
  RoomFit: native.RoomFit,
  pelt: native.pelt,
  dynp: native.dynp,
  binseg: native.binseg,
  topMoments: native.topMoments,
  momentEvents: native.momentEvents,
  Replay: native.Replay,
  questionKind: native.questionKind,
  replayTables: native.replayTables,
  probe: native.probe,
  decodeAudio: native.decodeAudio,
  audioChunks: native.audioChunks,
  AudioChunks: native.AudioChunks,
  transcribe: native.transcribe,
  transcribeSync: native.transcribeSync,
  VideoIndex: native.VideoIndex,
  videoIndex: native.videoIndex,
  stillFrame: native.stillFrame,
  clip: native.clip,
  cli: native.cli,
  setWhisperLog: native.setWhisperLog,
  setNumThreads: native.setNumThreads,
  numThreads: native.numThreads,
  version: native.version,
  errorCodes: native.errorCodes,
  tableNames: native.tableNames,
  optionSets: native.optionSets,
  optionDefaults: native.optionDefaults,
  resolveOptions: native.resolveOptions,
  __panicForTests: native.__panicForTests,
  ERROR_CODES,
  TABLE_NAMES,
  OPTION_SETS,
  REPLAY_TABLES,
}

addSyncNames(module.exports)
for (const v of Object.values(module.exports)) {
  if (typeof v === 'function' && v.prototype) addSyncNames(v.prototype)
}
