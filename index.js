// vap: live-stream e-commerce analytics. Public entry point of the Node package.
//
// The native addon (built by `napi build`, loaded by the generated native.js)
// does all the work; this file only re-exports it, by name, so that a symbol
// missing from the addon fails loudly here and in tests/node/exports.test.mjs.
'use strict'

const native = require('./native.js')

/** Error codes carried by every error vap throws (`error.code`), from the core. */
const ERROR_CODES = Object.freeze(native.errorCodes())

/** The tables of a session, in write order, from the core. */
const TABLE_NAMES = Object.freeze(native.tableNames())

/** The names of vap's option sets (`optionDefaults(name)`), from the core. */
const OPTION_SETS = Object.freeze(native.optionSets())

/** The names of a replay's tables, from the core. */
const REPLAY_TABLES = Object.freeze(native.replayTables())

module.exports = {
  Session: native.Session,
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
