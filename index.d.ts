// Type definitions for vap, the Node binding of the vap Rust core.
//
// Hand-written and committed over the addon's generated declarations
// (native.d.ts; tests/node/typings.test.mjs fails when a function or method
// napi generates is not declared here with the same parameters, or when a
// default documented here is not the core's, or when an object type napi
// generates has other fields here). native.d.ts is not imported: its
// signatures name types only this file defines. Conventions:
// * functions, methods, option objects and the field names of results
//   (room, session, summary, truth, moments, replays...) are camelCase; map
//   keys (factor names, product ids, question kinds) and string values
//   (`'on_plan'`) are data and stay as the core writes them;
// * table rows (`Session.table`, `Store.readTable`, `Replay.table`,
//   `Timeline.toObjects`, Arrow IPC, `Session.toJSON`) keep their column
//   names, snake_case, exactly as vap writes them to JSON / CSV / Parquet;
//   so do the texts of persisted formats (`RoomModel.toJsonString`);
// * a result given back to a call (a moment, a run-sheet, a digest, a
//   manifest, a live event) may have camelCase or snake_case field names;
// * every heavy call `x` has a Promise form `xAsync` (off the event loop) and
//   `xSync`, the same function as `x` under its explicit name;
// * every time is an integer number of milliseconds since the Unix epoch, UTC;
// * every error thrown (or Promise rejected) is a `VapError`.

/// <reference types="node" />

import type { EventEmitter } from 'node:events'

/** Milliseconds since the Unix epoch, UTC. */
export type Ms = number

// ------------------------------------------------------------------ errors

/** Stable error codes (`VapError.code`). */
export type ErrorCode =
  | 'VAP_VALIDATION'
  | 'VAP_FORMAT'
  | 'VAP_IO'
  | 'VAP_NOT_FOUND'
  | 'VAP_ALREADY_EXISTS'
  | 'VAP_VERSION'
  | 'VAP_INVALID_ARGUMENT'
  | 'VAP_INTERNAL'

/** Every error code, in the core's order (`errorCodes()`, frozen). */
export declare const ERROR_CODES: readonly ErrorCode[]
/** Every error code, in the core's order (a new array each call). */
export declare function errorCodes(): ErrorCode[]

/**
 * The names of vap's option sets: every options object of this package is one
 * of them, read by the Rust core (camelCase keys mapped to its snake_case
 * fields by one rule, unknown keys refused, durations as ms or `'10s'`,
 * instants as ms or ISO 8601).
 */
export type OptionSet =
  | 'timeline'
  | 'attribution_timeline'
  | 'offset'
  | 'asof'
  | 'moments'
  | 'segment'
  | 'attribute'
  | 'simulate'
  | 'load'
  | 'import'
  | 'sources'
  | 'columns'
  | 'column'
  | 'events'
  | 'top'
  | 'split'
  | 'replay'
  | 'questions'
  | 'subtitles'
  | 'report'
  | 'transcribe'
  | 'clips'
  | 'run_sheet'
  | 'plan'
  | 'playbook'
  | 'live'
  | 'alerts'
  | 'follow'
/** Every option set, from the core (`optionSets()`, frozen). */
export declare const OPTION_SETS: readonly OptionSet[]
/** Every option set (a new array each call). */
export declare function optionSets(): OptionSet[]
/**
 * The defaults of an option set, as the core holds them (durations in ms,
 * keys camelCase: `stepMs`): what "default" means everywhere in these docs.
 */
export declare function optionDefaults(name: OptionSet): Record<string, unknown>
/**
 * Options as written (camelCase), checked by the core and returned whole:
 * defaults filled, durations in ms (`stepMs`), keys camelCase. Throws
 * `VAP_INVALID_ARGUMENT` naming the option on a bad value or an unknown key.
 */
export declare function resolveOptions(name: OptionSet, options?: object): Record<string, unknown>

/** One problem found in the input. */
export interface Problem {
  /** File name, or table name for in-memory input. */
  file: string
  /** 1-based data row (header excluded), when the problem is in a row. */
  row: number | null
  /** Field (column), when the problem is in a field. */
  field: string | null
  /** What is wrong. */
  message: string
}

/**
 * The shape of every error vap throws: a plain `Error` with a `code` and, for
 * `VAP_VALIDATION`, every problem found (empty for the other codes).
 */
export interface VapError extends Error {
  code: ErrorCode
  problems: Problem[]
}

// ------------------------------------------------------------------ venue

/** A live room. */
export interface Room {
  id: string
  name: string
  platform?: string
}

/** A recording of (part of) a session. */
export interface VideoRef {
  path: string
  /** Session-clock time of the recording's position 0. */
  offsetMs: Ms
  sizeBytes?: number
  sha256?: string
  /** Length in ms, filled in when the recording is registered (probed). */
  durationMs?: number
}

/** One broadcast of a room, `[startMs, endMs)`. */
export interface SessionMeta {
  id: string
  roomId: string
  startMs: Ms
  endMs: Ms
  /** IANA time zone for display ("Asia/Shanghai"). */
  timezone: string
  title?: string
  recordings?: VideoRef[]
  /** Figures the platform reported for the whole session (an imported Compass session list or TikTok Shop summary), rates as ratios. */
  facts?: Record<string, number | string>
  /** Spans where a source had no data (a capture tool's reconnect): missing data, not quiet minutes. */
  gaps?: DataGap[]
}

/** A span where a source had no data. */
export interface DataGap {
  source: string
  startMs: Ms
  endMs: Ms
  reason: string
  /** Streams it leaves unknown (metric names, `comments`, `orders`; empty: every measured stream): missing bins on the timeline. */
  streams: string[]
}

/** How the samples of a metric series are read. */
export type MetricKind = 'flow' | 'cumulative' | 'gauge'

/** Declaration of a metric series. */
export interface MetricDecl {
  name: string
  kind: MetricKind
  unit: string
}

// ------------------------------------------------------------------ rows

export type ShiftRole = 'host' | 'co_host' | 'field_control'
export type SegmentKind = 'explain' | 'pinned' | 'on_shelf'
export type PromotionKind = 'flash_sale' | 'coupon' | 'lucky_bag' | 'price_cut' | 'custom'
export type OrderStatus = 'paid' | 'refunded'

export interface Anchor {
  id: string
  name: string
}

export interface Shift {
  anchor_id: string
  role: ShiftRole
  start_ms: Ms
  end_ms: Ms
}

export interface Product {
  id: string
  name: string
  price: number
  category?: string
  aliases?: string[]
}

export interface ProductSegment {
  product_id: string
  kind: SegmentKind
  start_ms: Ms
  end_ms: Ms
}

export interface Promotion {
  id: string
  kind: PromotionKind
  label?: string
  product_id?: string
  start_ms: Ms
  end_ms: Ms
}

export interface Comment {
  ts_ms: Ms
  viewer_id: string
  text: string
}

/** A viewer who commented (id possibly pseudonymised). */
export interface Commenter {
  id: string
  comments: number
  firstMs: Ms
}

export interface Order {
  id: string
  ts_ms: Ms
  product_id: string
  quantity: number
  amount: number
  status: OrderStatus
  viewer_id?: string
}

export interface Utterance {
  start_ms: Ms
  end_ms: Ms
  text: string
  speaker?: string
  confidence?: number
}

/** A metric sample (long format). */
export interface MetricSample {
  metric: string
  ts_ms: Ms
  value: number
}

/** Table name → row type (as `Session.table` returns them). */
export interface TableRows {
  anchors: Anchor
  shifts: Shift
  products: Product
  segments: ProductSegment
  promotions: Promotion
  comments: Comment
  orders: Order
  utterances: Utterance
  metrics: MetricSample
}

/** The name of a session table. */
export type TableName = keyof TableRows

/** The tables of a session, in write order (`tableNames()`, frozen). */
export declare const TABLE_NAMES: readonly TableName[]
/** The tables of a session, in write order, from the core (a new array each call). */
export declare function tableNames(): TableName[]

/**
 * Rows as accepted on input (`fromTables`, `Store.replaceTable`): the output
 * shape, but times may also be RFC 3339 strings with an offset, numbers may be
 * numeric strings, and enums accept a few Chinese synonyms. Validation reports
 * every bad row and field.
 */
export type InputRow<T> = { [K in keyof T]?: T[K] | string | number | null } & Record<string, unknown>

/** Input rows per table for `fromTables`; tables left out are empty. */
/** Per table: row objects, or an Arrow IPC buffer (`tableToIPC` of `apache-arrow`, stream or file format). */
export type InputTables = { [K in TableName]?: InputRow<TableRows[K]>[] | Uint8Array }

/** A stored core table row: the table's row with its keys first. */
export type StoredRow<K extends TableName> = TableRows[K] & { room_id: string; session_id: string }

// ------------------------------------------------------------------ summaries

/** GMV computed from orders. */
export interface Gmv {
  gross: number
  refunds: number
  net: number
  paidOrders: number
  refundOrders: number
}

/** Platform-reported GMV against GMV from orders. */
export interface GmvCheck {
  platform: number
  ordersGross: number
  difference: number
  relative: number
}

/** Summary of a session. */
export interface Summary {
  roomId: string
  sessionId: string
  hours: number
  anchors: number
  products: number
  explains: number
  promotions: number
  comments: number
  commenters: number
  utterances: number
  gmv: Gmv
  entries: number | null
  peakViewers: number | null
  gpm: number | null
  /** Top products by gross GMV: [product id, name, gross]. */
  topProducts: [string, string, number][]
  gmvCheck: GmvCheck | null
}

/**
 * The manifest of a session, as `Session.manifest()` gives it. `fromTables`
 * also reads a session directory's `manifest.json` as written there
 * (`Canonical<Manifest>`: `vap_format`, `start_ms`...).
 */
export interface Manifest {
  /** Format version (currently 1); a newer one is refused with `VAP_VERSION`. */
  vapFormat: number
  room: Room
  session: {
    id: string
    roomId?: string
    startMs: Ms
    endMs: Ms
    timezone?: string
    title?: string
    recordings?: VideoRef[]
  }
  metrics?: MetricDecl[]
  /** Explicit file per table (session directories only). */
  tables?: Record<string, string>
}

/**
 * An object type in the core's canonical form: every field name snake_case
 * (`startMs` → `start_ms`), as vap writes it to files and Python gives it;
 * index signatures (map keys, data) are unchanged.
 */
export type Canonical<T> = T extends ReadonlyArray<infer U>
  ? Canonical<U>[]
  : T extends object
    ? { [K in keyof T as K extends string ? SnakeCase<K> : K]: Canonical<T[K]> }
    : T

/** A camelCase name in snake_case (`startMs` → `start_ms`, `p50Ms` → `p50_ms`). */
export type SnakeCase<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<T>}`
  : S

/**
 * The whole session as one object (`Session.toJSON()`), in the core's
 * canonical form: the tables' rows keyed by their column names, as
 * `Session.table` gives them, and the session's record as manifest.json holds it.
 */
export interface SessionJSON {
  room: Room
  session: Canonical<SessionMeta>
  metrics: MetricDecl[]
  anchors: Anchor[]
  shifts: Shift[]
  products: Product[]
  segments: ProductSegment[]
  promotions: Promotion[]
  comments: Comment[]
  orders: Order[]
  utterances: Utterance[]
  samples: MetricSample[]
}

// ------------------------------------------------------------------ session

/** A file format for session directories. */
export type Format = 'csv' | 'jsonl' | 'parquet'

/** A validated session held in native memory. */
/** What loading a session did (`Session.loadReport`). */
export interface LoadReport {
  /** Files read, with the text encoding detected (null for Parquet). */
  files: [string, string | null][]
  /** Tables that arrived unsorted and were sorted. */
  sorted: string[]
  /** Cumulative metrics differenced, with the number of counter resets. */
  differenced: [string, number][]
  /** Accepted but suspicious input (a refund with no payment in the session). */
  warnings: Problem[]
}

export declare class Session {
  private constructor()
  /** What loading found, for a session made by `loadDir` / `fromTables`; else null. */
  get loadReport(): LoadReport | null
  /** What importing platform exports did, for a session made by `readSources` / `read*`; else null. */
  get sourceReport(): SourceReport | null
  /** The room. */
  get room(): Room
  /** The session. */
  get session(): SessionMeta
  /** Metric declarations. */
  get metrics(): MetricDecl[]
  /** Names of the tables, in write order. */
  get tableNames(): TableName[]
  /** Rows of one table as plain objects (missing optional fields left out). */
  table<K extends TableName>(name: K): TableRows[K][]
  /** One table as an Arrow IPC stream (`tableFromIPC` of `apache-arrow` reads it); times as `Timestamp(ms, UTC)`. */
  tableIpc(name: TableName): Uint8Array
  /** Number of rows of one table. */
  numRows(name: TableName): number
  /** Session summary. */
  summary(): Summary
  /** Viewers who commented, sorted by id. */
  commenters(): Commenter[]
  /** GMV from orders. */
  gmv(): Gmv
  /** The manifest describing this session. */
  manifest(): Manifest
  /** Writes a session directory: `manifest.json` + one file per table. */
  writeDir(path: string, format?: Format): void
  /** The whole session as one plain object in the core's canonical form, snake_case (used by `JSON.stringify`). */
  toJSON(): SessionJSON
  /** Aligns every stream of the session on one grid (default step 1 s). */
  timeline(options?: TimelineOptions): Timeline
  /** As `timeline`, off the main thread. */
  timelineAsync(options?: TimelineOptions): Promise<Timeline>
  /** `timeline` by its explicit name (the same function): runs on the calling thread; `timelineAsync` does not. */
  timelineSync(options?: TimelineOptions): Timeline
  /**
   * The transcript's clock offset to the platform clock, from products
   * explained on the platform vs named in the speech. Never applied.
   */
  estimateTranscriptOffset(options?: OffsetOptions): ClockOffset
  /**
   * A copy with the transcript moved onto the platform clock; throws
   * `VAP_INVALID_ARGUMENT` when the estimate is undetermined.
   */
  applyOffset(estimate: ClockOffset): Session
  /** A copy with every utterance moved by `deltaMs`. */
  shiftTranscript(deltaMs: number): Session
  /** The run-sheet attached to the session (`withPlan`), or null. */
  get plan(): RunSheet | null
  /**
   * A copy with a run-sheet attached (`readRunSheet`; null removes it),
   * checked against this session now (an item ending before it starts is an
   * error naming its row); kept in directories and the store, compared by
   * `replay` and `planVsActual`.
   */
  withPlan(sheet: RunSheet | null): Session
  /**
   * The session against its run-sheet: each planned shift, product slot and
   * promotion matched with what ran, the planned talking points said or not,
   * and what each deviation earned or cost according to the attribution
   * model (95 % bootstrap intervals).
   */
  planVsActual(options?: PlanOptions): PlanReview
  /** As `planVsActual`, off the main thread. */
  planVsActualAsync(options?: PlanOptions): Promise<PlanReview>
  /** `planVsActual` by its explicit name (the same function): runs on the calling thread; `planVsActualAsync` does not. */
  planVsActualSync(options?: PlanOptions): PlanReview
  /**
   * Moments of truth: peaks and drops of `orders`, `entries`, the online-viewer
   * gauge, product clicks and comments (and GMV in yuan over the orders' bins)
   * against a robust rolling baseline, each with its driver and the streams
   * that moved; ranked by share of the metric's session total.
   */
  moments(options?: MomentOptions): Moment[]
  /** As `moments`, off the event loop. */
  momentsAsync(options?: MomentOptions): Promise<Moment[]>
  /** `moments` by its explicit name (the same function): runs on the calling thread; `momentsAsync` does not. */
  momentsSync(options?: MomentOptions): Moment[]
  /**
   * The session replay (直播复盘) with its product and anchor replays: data
   * quality first, headline figures against the room's `history` (earlier
   * sessions, or their `digest()`s), curves, top moments with their causes,
   * products, anchors, promotions, viewers' questions and their answers.
   */
  replay(options?: ReplayOptions, history?: Array<Session | SessionDigest>): Replay
  /** As `replay`, off the event loop (the history's digests too). */
  replayAsync(options?: ReplayOptions, history?: Array<Session | SessionDigest>): Promise<Replay>
  /** `replay` by its explicit name (the same function): runs on the calling thread; `replayAsync` does not. */
  replaySync(options?: ReplayOptions, history?: Array<Session | SessionDigest>): Replay
  /** Viewers' questions: detected, typed, linked to a product, matched to an answer. */
  questions(options?: QuestionOptions): Question[]
  /** What this session contributes to a room's history (for another session's `replay`). */
  digest(options?: QuestionOptions): SessionDigest
  /** The transcript or the comments as SRT / WebVTT on a recording's clock. */
  subtitles(options?: SubtitleOptions): string
  /**
   * The recording covering session instant `tMs` and the position in it
   * (`session time = offsetMs + position`); `null` when none covers it. When
   * recordings overlap, the one registered first wins.
   */
  locate(tMs: Ms): Located | null
  /** The timeline attribution reads: `timeline()` plus `host:<anchor>` and `price_level` (step 10 s by default). */
  attributionTimeline(options?: TimelineOptions): Timeline
  /**
   * Fits the attribution model on this session's attribution timeline
   * (`timeline`: its options). Apply the transcript's clock offset first.
   */
  attribute(options?: AttributeOptions & { timeline?: TimelineOptions }): Attribution
}

/** Options for loading session directories or tables. */
export interface LoadOptions {
  /** Replace viewer ids of comments and orders by their keyed hash. */
  pseudonymizeKey?: string
  /** Events further than this outside the session are errors (default 3 600 000 = 1 h). */
  outsideToleranceMs?: number
}

// ------------------------------------------------------------------ importers

/** Formats of platform exports and capture logs vap imports. */
export type SourceFormat =
  | 'compass_sessions'
  | 'compass_trend'
  | 'compass_orders'
  | 'compass_traffic'
  | 'douyin_capture'
  | 'tiktok_capture'
  | 'tiktok_shop_session'
  | 'tiktok_shop_minutes'

/** A file with its format (detected from the content when left out). */
export interface SourceFileSpec {
  path: string
  format?: SourceFormat | null
}

/** Options of `readRunSheet` (`optionDefaults('run_sheet')`). */
export interface RunSheetOptions {
  /** Time zone of date-times written without an offset (default 'Asia/Shanghai'); clock times ("20:15") are read in the session's own zone. */
  timezone?: string
}

/** A planned time as the run-sheet wrote it. */
export type PlanTime = { at: Ms } | { offset: Ms } | { clock: Ms }

/** One planned item of a run-sheet. */
export interface PlanItem {
  kind: 'shift' | 'product' | 'promotion'
  start: PlanTime
  end?: PlanTime
  durationMs?: Ms
  /** Anchor id or name as written. */
  anchor?: string
  /** Product id, name or alias as written. */
  product?: string
  promotion?: PromotionKind
  label?: string
  talkingPoints?: string[]
  /** 1-based data row of the source (0 when built in code). */
  row: number
}

/** A run-sheet (直播脚本): planned host shifts, product slots and promotions. */
export interface RunSheet {
  source: string
  items: PlanItem[]
  /** Columns of the file that were not read. */
  ignored?: string[]
}

/**
 * Reads a run-sheet: a CSV (UTF-8 or GB18030), XLSX or JSON file by path,
 * its bytes, or an array of row objects; columns in English or Chinese
 * (类型, 时间段 "20:00-20:15", 开始时间, 结束时间, 时长, 主播, 商品, 活动, 话术, 备注).
 * Every problem is reported at once (`ValidationError`, `problems` naming row and field).
 */
export declare function readRunSheet(
  source: string | Buffer | Array<Record<string, unknown>>,
  options?: RunSheetOptions,
): RunSheet
/** A run-sheet as CSV text in vap's columns; `readRunSheet` reads it back. */
export declare function runSheetToCsv(sheet: RunSheet): string

/** Options of `Session.planVsActual` (`optionDefaults('plan')`). */
export interface PlanOptions {
  /** A start or a length further than this from the plan is a deviation (default 120 000 = 2 min). */
  tolerance?: Duration
  /** Value the deviations with the attribution model (default true). */
  attribute?: boolean
  /** The attribution timeline. */
  timeline?: TimelineOptions
  /** The attribution model. */
  model?: AttributeOptions
}

/** What a deviation earned (+) or cost (−): the session as it ran minus the session had the item gone as planned, with a 95 % bootstrap interval. */
export interface PlanEffect {
  value: number
  low: number | null
  high: number | null
}

/** One planned item against what happened (or one unplanned item). */
export interface Deviation {
  kind: 'shift' | 'product' | 'promotion'
  status: 'on_plan' | 'late' | 'early' | 'longer' | 'shorter' | 'skipped' | 'added'
  /** Anchor id, product id, or promotion kind with its product (`flash_sale:p03`). */
  subject: string
  name: string
  planned: [Ms, Ms] | null
  actual: [Ms, Ms] | null
  /** Actual start − planned start. */
  startDeltaMs: Ms | null
  /** Actual length − planned length. */
  lengthDeltaMs: Ms | null
  effect: PlanEffect | null
  pointsSaid: string[]
  pointsMissed: string[]
  row: number | null
  note: string | null
}

/** A session against its run-sheet. */
export interface PlanReview {
  source: string
  /** The model's target the effects are in (`order_gmv`). */
  target: string | null
  onPlan: number
  offPlan: number
  added: number
  items: Deviation[]
  /** What the deviations together earned or cost. */
  effectTotal: PlanEffect | null
  notes: string[]
}

/** Options of `playbook` (`optionDefaults('playbook')`). */
export interface PlaybookOptions {
  /** Sessions an effect must be seen in before it is recommended (default 3). */
  minSessions?: number
  /** Flash sales starting this long into a session or later are "late" (default 1 800 000 = 30 min). */
  lateAfter?: Duration
  /** Window after a phrase in which the product's orders count for it (default 60 000 = 60 s). */
  follow?: Duration
  /** Uses below which a phrase is weak (default 5). */
  minSupport?: number
  /** The attribution timeline. */
  timeline?: TimelineOptions
  /** The room model. */
  model?: AttributeOptions
}

/** What a room's history says about one effect (yuan of the target per `unit`), with a simultaneous 95 % interval. */
export interface Evidence {
  value: number
  low: number | null
  high: number | null
  unit: 'hour' | 'minute'
  sessions: number
  exposure: number
  weak: boolean
  whyWeak: string | null
}

/** A room's playbook: who should host what, flash-sale timing, products, recommendations with their evidence, a draft run-sheet. */
export interface Playbook {
  roomId: string
  sessions: string[]
  target: string
  /** Anchor × category against the other anchors on the category, best first. */
  anchors: Array<{ anchorId: string; anchorName: string; category: string; evidence: Evidence }>
  flashSales: {
    lateAfterMs: Ms
    early: Evidence | null
    late: Evidence | null
    /** Late − early, per minute running. */
    difference: Evidence | null
    medianMinutes: number | null
  }
  products: Array<{
    productId: string
    name: string
    category: string
    sessions: number
    explainMinutes: number
    positionMinutes: number
    gmvPerExplainMinute: number
    weak: boolean
    /** The anchor's phrases while explaining it, pooled over the sessions, best first. */
    phrases: Array<{
      phrase: string
      group: string
      uses: number
      sessions: number
      ordersAfter: number
      lift: number | null
      low: number | null
      high: number | null
      weak: boolean
    }>
  }>
  /** Strongest first; `not_enough_evidence` first when nothing stands out. */
  recommendations: Array<{
    kind: 'anchor_category' | 'flash_timing' | 'product_order' | 'not_enough_evidence'
    text: string
    textZh: string
    evidence: Evidence | null
    weak: boolean
  }>
  /** A run-sheet for the next session (`runSheetToCsv` writes it, `readRunSheet` reads it back). */
  draft: RunSheet
  notes: string[]
}

/** A room's playbook from its history (at least two sessions of one room). */
export declare function playbook(sessions: Session[], options?: PlaybookOptions): Playbook
/** A playbook as one self-contained HTML page, recommendations first (`lang`, `fragment`). */
export declare function playbookHtml(playbook: Playbook, options?: ReportOptions): string
/** As `playbook`, off the main thread. */
export declare function playbookAsync(sessions: Session[], options?: PlaybookOptions): Promise<Playbook>
/** `playbook` by its explicit name (the same function): runs on the calling thread; `playbookAsync` does not. */
export declare function playbookSync(sessions: Session[], options?: PlaybookOptions): Playbook

/** Options of the importers; defaults: `optionDefaults('sources')`. */
export interface SourceOptions {
  /** Room id; default: the capture log's room id, else "room". */
  roomId?: string
  roomName?: string
  /** Session id; default: the session's local start ("2026-11-25-2000"). */
  sessionId?: string
  /** Time zone of local times in the files and of the session. */
  timezone?: string
  /** Session start: ms, or ISO 8601. Default: the matching session-list row, else the earliest data. */
  start?: Ms | string
  /** Session end; default: the session-list row, the capture's end message, else just after the last data. */
  end?: Ms | string
  /** A capture log without any message for this long has a gap (ms or "60s"). */
  captureGap?: Ms | string
  /** Cross-checks of the platform's totals warn above this relative difference. */
  checkTolerance?: number
  /** Largest clock offset between two sources searched, either way (default 2 min). */
  maxOffset?: Ms | string
  /** Move a source whose offset against the platform's data is determined onto the platform's clock (default false: reported only). */
  applyOffsets?: boolean
}

/** What became of one source field. */
export interface FieldReport {
  file: string
  field: string
  used: 'mapped' | 'kept' | 'ignored'
  target: string
  count: number
  note: string
}

/** What an import did (`Session.sourceReport`). */
export interface SourceReport {
  files: [string, SourceFormat][]
  fields: FieldReport[]
  dropped: { file: string; row: number; reason: string }[]
  duplicates: number
  gaps: DataGap[]
  checks: { what: string; reported: number; summed: number; relative: number; agrees: boolean }[]
  notes: string[]
  /** Each source's clock against the platform's data where both give a stream. */
  offsets: SourceOffset[]
}

/** One source's clock against another's (`SourceReport.offsets`). */
export interface SourceOffset {
  source: string
  reference: string
  /** The streams paired, `reference stream ~ source stream`. */
  channels: string[]
  /** How far `source`'s clock reads ahead of the reference's, ms (null where the streams do not tell: see `reason`). */
  offsetMs: number | null
  /** The lag that matched best, determined or not (ms). */
  bestLagMs: Ms
  /** The channels' weighted correlation of period-to-period changes at it. */
  correlation: number
  /** Its standard score against the circularly shifted periods (≥ 4 for an offset). */
  z: number
  reason: string
  /** Whether the source's times were moved onto the reference's clock. */
  applied: boolean
}

/** One row of a Compass session list. */
export interface SessionFacts {
  row: number
  label: string
  startMs: Ms
  endMs: Ms
  facts: Record<string, number | string>
}

/** The files of `readCompass`, by role. */
export interface CompassFiles {
  trend?: string
  orders?: string
  sessions?: string
  traffic?: string
}

/** The files of `readTiktokShop`, by role. */
export interface TiktokShopFiles {
  minutes?: string
  session?: string
}

/** Reads one session from platform exports and capture logs, merged on one clock (`Session.sourceReport` says what became of every field and row). */
export declare function readSources(files: (string | SourceFileSpec)[], options?: SourceOptions): Session
/** As `readSources`, off the main thread. */
export declare function readSourcesAsync(files: (string | SourceFileSpec)[], options?: SourceOptions & JobControls): Promise<Session>
/** `readSources` by its explicit name (the same function): runs on the calling thread; `readSourcesAsync` does not. */
export declare function readSourcesSync(files: (string | SourceFileSpec)[], options?: SourceOptions): Session
/** One session from Douyin E-commerce Compass exports. */
export declare function readCompass(files: CompassFiles, options?: SourceOptions): Session
/** One session from a Douyin or TikTokLive capture log (JSON Lines). */
export declare function readCaptureLog(path: string, options?: SourceOptions): Session
/** One session from TikTok Shop LIVE analytics. */
export declare function readTiktokShop(files: TiktokShopFiles, options?: SourceOptions): Session
/** A Compass session list (XLSX or CSV): a row per session and the report. */
export declare function readCompassSessions(path: string, options?: SourceOptions): { sessions: SessionFacts[]; report: SourceReport }
/** The format of a platform export or capture log, detected from its content. */
export declare function detectSourceFormat(path: string): SourceFormat

/** Loads a session directory. */
export declare function loadDir(path: string, options?: LoadOptions): Session
/** How far a long call has come: `done` of `total` items of `stage` (`'sessions'`, `'bootstrap'`, `'files'`). */
export interface JobStep {
  stage: string
  done: number
  total: number
}

/**
 * Controls of a long `...Async` call (`fitRoomModelAsync`, `attributeAsync`,
 * `playbookAsync`, `roomTimelineAsync`, `readSourcesAsync`), given with its
 * options. Aborting `signal` stops the call: it rejects with `VAP_CANCELLED`
 * and leaves nothing half-written (no model saved); an already aborted signal
 * is refused. `onProgress` is called on the JS thread as the call goes, at
 * most every 50 ms and always for the last item of a stage; every call has
 * been made before the Promise settles (what it returns or throws is ignored).
 */
export interface JobControls {
  signal?: AbortSignal
  onProgress?: (step: JobStep) => void
}

/** As `loadDir`, off the main thread. */
export declare function loadDirAsync(path: string, options?: LoadOptions): Promise<Session>
/** `loadDir` by its explicit name (the same function): runs on the calling thread; `loadDirAsync` does not. */
export declare function loadDirSync(path: string, options?: LoadOptions): Session

/**
 * Builds a validated session from a manifest (as `Session.manifest()` gives
 * it, or as manifest.json holds it; `vapFormat` may be left out) and, per
 * table, rows or an Arrow IPC buffer. Unknown table
 * names throw `VAP_INVALID_ARGUMENT`; bad rows throw `VAP_VALIDATION` listing
 * every problem (`file` is the table name, `row` is 1-based).
 */
export declare function fromTables(
  manifest: Manifest | Canonical<Manifest>,
  tables: InputTables,
  options?: LoadOptions,
): Session

// ------------------------------------------------------------------ simulation

/** Settings of a synthetic room; missing fields take the core's defaults. */
export interface SimConfig {
  /** Seed; the same config gives the same room (default 0). */
  seed?: number
  /** Session length in hours, in (0, 24] (default 4). */
  hours?: number
  /** Session start (default 2026-11-25 20:00 Beijing time). */
  startMs?: Ms
  /** Number of anchors, 1..=16 (default 3). */
  anchors?: number
  /** Number of products, 1..=10000 (default 30). */
  products?: number
  /** Mean entries per second outside traffic waves (default 12). */
  entriesPerSecond?: number
  /** Mean seconds a viewer stays (default 150). */
  meanStayS?: number
  /** Comments per online viewer per second (default 0.004). */
  commentRate?: number
  /** Baseline conversion: orders per online viewer per second (default 0.00003). */
  baseConversion?: number
  /** Transcript clock offset in ms; null/absent draws one in ±30 s. */
  clockOffsetMs?: number | null
  /** Room id (default "sim-room"). */
  roomId?: string
  /** Session id; null/absent uses "sim-<seed>". */
  sessionId?: string | null
  /** Mean ad spend in yuan per hour, in campaigns of 5–20 min, recorded as `ad_spend` (default 0: no ads). */
  adSpendPerHour?: number
  /** Paid entries per yuan at a steady spend (default 1). */
  entriesPerYuan?: number
  /** Half-life in seconds from spend to paid entries (default 90). */
  adHalfLifeS?: number
  /** Planted anchor × category effects (extra conversion in units of `baseConversion` while the anchor hosts and the category is in focus). */
  anchorCategoryEffects?: Array<{ anchor: string; category: string; effect: number }>
  /** Extra conversion (units of `baseConversion`) of flash sales starting at `lateFlashAfter` or later (default 0). */
  lateFlashEffect?: number
  /** Where late flash sales begin (default 1 800 000 = 30 min). */
  lateFlashAfter?: Duration
}

export type Cause = 'flash_sale' | 'pitch_burst' | 'traffic_wave' | 'stream_stall'
export type Driver = 'traffic' | 'conversion'

/** A moment planted in the simulated room. */
export interface PlantedMoment {
  startMs: Ms
  endMs: Ms
  cause: Cause
  peak: boolean
  driver: Driver
  factor: string
}

/** True effect and contribution of one factor. */
export interface FactorTruth {
  /** "explain", "flash_sale", "coupon", "pitch", "answer", "anchor:<id>". */
  name: string
  effect: number
  activeS: number
  orders: number
  gmv: number
}

/** Per-second truth series (expected GMV in yuan per second), as plain arrays. */
export interface TruthSeries {
  startMs: Ms
  stepMs: Ms
  baseline: number[]
  /** One array per factor, in the order of `Truth.factors`. */
  factors: number[][]
  online: number[]
}

/** Ground truth of a simulated room. */
export interface Truth {
  clockOffsetMs: Ms
  baseConversion: number
  baselineGmv: number
  factors: FactorTruth[]
  moments: PlantedMoment[]
  series: TruthSeries
  /** The planted ads (`adSpendPerHour` above 0), else null. */
  ads: AdsTruth | null
}

/** The ads planted in a simulated room. */
export interface AdsTruth {
  /** Total spend (yuan). */
  spend: number
  /** Paid entries per yuan at a steady spend. */
  entriesPerYuan: number
  /** Half-life of the delivery (seconds). */
  halfLifeS: number
  /** Expected paid entries over the session. */
  paidEntries: number
  /** Expected GMV of the paid viewers over the session. */
  paidGmv: number
  /** Expected paid entries per second. */
  paidEntriesSeries: number[]
  /** Expected GMV of the paid viewers per second. */
  paidGmvSeries: number[]
}

/** A simulated room. */
export interface SimResult {
  data: Session
  truth: Truth
}

/** Simulates one session of a live room (same config → same room, on any number of threads). */
export declare function simulate(config?: SimConfig): SimResult
/** As `simulate`, off the main thread. */
export declare function simulateAsync(config?: SimConfig): Promise<SimResult>
/** `simulate` by its explicit name (the same function): runs on the calling thread; `simulateAsync` does not. */
export declare function simulateSync(config?: SimConfig): SimResult

// ------------------------------------------------------------------ store

/** A session as listed by `Store.sessions`. */
export interface SessionInfo {
  roomId: string
  sessionId: string
  startMs: Ms
  endMs: Ms
  /** Row count per table. */
  rows: Record<string, number>
  /** Derived tables present. */
  derived: string[]
  /** What is wrong with this session's files (empty for a sound one). */
  damage: string[]
}

/** One damaged file found by `Store.check()`. */
export interface Damage {
  /** The path, relative to the store's root. */
  path: string
  roomId: string | null
  sessionId: string | null
  /** What is wrong. */
  problem: string
}

/** What `Store.check()` found. */
export interface StoreCheck {
  /** Files read whole. */
  files: number
  /** Sessions checked. */
  sessions: number
  /** Every problem found, in path order; empty for a sound store. */
  damaged: Damage[]
}

/** The stored manifest of a session. */
/**
 * A stored session's manifest: what `manifest.json` holds, as `Manifest`
 * (the stored tables' row counts and derived tables are on `SessionInfo`,
 * from `Store.sessions`).
 */
export type StoredManifest = Manifest

export interface ImportOptions {
  /** Replace the session if it exists (otherwise `VAP_ALREADY_EXISTS`). */
  replace?: boolean
  /** Copy recordings into the store instead of only referencing them. */
  copyRecordings?: boolean
}

export interface ImportDirOptions extends ImportOptions, LoadOptions {}

/** An embedded store rooted at a directory. */
export declare class Store {
  /** Opens (or creates, if missing or empty) the store at `path`. */
  constructor(path: string)
  /** Opens an existing store for reading only (no lock file, no recovery; writers throw `VAP_IO`). */
  static openReadOnly(path: string): Store
  /** The store's root directory. */
  get root(): string
  /** Whether this handle can only read (read-only mount, no write permission, or `openReadOnly`). */
  get readOnly(): boolean
  /** What opening the store recovered from interrupted changes, one line each. */
  get recovered(): string[]
  /** Reads every file whole and reports each damaged one, without stopping at the first. */
  check(): StoreCheck
  /** Rooms, sorted by id. */
  rooms(): Room[]
  /** Sessions of one room, or of every room. */
  sessions(room?: string): SessionInfo[]
  /** Imports a session atomically. */
  importSession(session: Session, options?: ImportOptions): void
  /** As `importSession`, off the JS thread. */
  importSessionAsync(session: Session, options?: ImportOptions): Promise<void>
  /** `importSession` by its explicit name (the same function): runs on the calling thread; `importSessionAsync` does not. */
  importSessionSync(session: Session, options?: ImportOptions): void
  /** Loads a session directory and imports it; returns the imported session. */
  importDir(path: string, options?: ImportDirOptions): Session
  /** As `importDir`, off the JS thread. */
  importDirAsync(path: string, options?: ImportDirOptions): Promise<Session>
  /** `importDir` by its explicit name (the same function): runs on the calling thread; `importDirAsync` does not. */
  importDirSync(path: string, options?: ImportDirOptions): Session
  /** Loads a stored session. */
  load(room: string, session: string): Session
  /** As `load`, off the main thread. */
  loadAsync(room: string, session: string): Promise<Session>
  /** `load` by its explicit name (the same function): runs on the calling thread; `loadAsync` does not. */
  loadSync(room: string, session: string): Session
  /** The replay of a stored session against the room's earlier stored sessions. */
  replay(room: string, session: string, options?: ReplayOptions): Replay
  /** As `replay`, off the JS thread. */
  replayAsync(room: string, session: string, options?: ReplayOptions): Promise<Replay>
  /** `replay` by its explicit name (the same function): runs on the calling thread; `replayAsync` does not. */
  replaySync(room: string, session: string, options?: ReplayOptions): Replay
  /** Products and anchors across a room's stored sessions; anchor effects from the room model. */
  roomReplay(room: string, options?: ReplayOptions): RoomReplay
  /** As `roomReplay`, off the event loop; `signal` and `onProgress` as `JobControls`. */
  roomReplayAsync(room: string, options?: ReplayOptions & JobControls): Promise<RoomReplay>
  /** `roomReplay` by its explicit name (the same function): runs on the calling thread; `roomReplayAsync` does not. */
  roomReplaySync(room: string, options?: ReplayOptions): RoomReplay
  /** The room's playbook from its stored sessions, read one at a time. */
  playbook(room: string, options?: PlaybookOptions): Playbook
  /** As `playbook`, off the main thread. */
  playbookAsync(room: string, options?: PlaybookOptions & JobControls): Promise<Playbook>
  /** `playbook` by its explicit name (the same function): runs on the calling thread; `playbookAsync` does not. */
  playbookSync(room: string, options?: PlaybookOptions): Playbook
  /** The room's report (直播间复盘) as one self-contained HTML page: every stored session against the room's median (`#sessions`), products (`#products`) and anchors with the room model's effects (`#anchors`). `options`: the report's (`lang`, `fragment`); `replayOptions`: `roomReplay`'s. */
  roomHtml(room: string, options?: ReportOptions, replayOptions?: ReplayOptions): string
  /** As `roomHtml`, off the event loop (the libuv thread pool). */
  roomHtmlAsync(room: string, options?: ReportOptions, replayOptions?: ReplayOptions): Promise<string>
  /** `roomHtml` by its explicit name (the same function): runs on the calling thread; `roomHtmlAsync` does not. */
  roomHtmlSync(room: string, options?: ReportOptions, replayOptions?: ReplayOptions): string
  /** Writes `roomHtml` to `path`, whole or not at all; returns the path. */
  writeRoomHtml(room: string, path: string, options?: ReportOptions, replayOptions?: ReplayOptions): string
  /** Deletes a stored session. */
  delete(room: string, session: string): void
  /** Whether a session is in the store. */
  contains(room: string, session: string): boolean
  /** The stored manifest of a session. */
  manifest(room: string, session: string): StoredManifest
  /** Reads a stored table: core tables carry `room_id` / `session_id`. */
  readTable<K extends TableName>(room: string, session: string, name: K): StoredRow<K>[]
  readTable(room: string, session: string, name: string): Record<string, unknown>[]
  /** Replaces one core table of a stored session (validated against the rest). */
  replaceTable<K extends TableName>(room: string, session: string, name: K, rows: InputRow<TableRows[K]>[]): void
  /** Adds or replaces a derived table; column types are inferred from the values. */
  replaceTable(room: string, session: string, name: string, rows: Record<string, unknown>[]): void
  /** The room view: every stored session of `room` aligned and stacked with a session key. */
  roomTimeline(room: string, options?: TimelineOptions): Timeline
  /** As `roomTimeline`, off the main thread. */
  roomTimelineAsync(room: string, options?: TimelineOptions & JobControls): Promise<Timeline>
  /** `roomTimeline` by its explicit name (the same function): runs on the calling thread; `roomTimelineAsync` does not. */
  roomTimelineSync(room: string, options?: TimelineOptions): Timeline
  /** Every stored session of a room as attribution timelines, stacked. */
  attributionTimeline(room: string, options?: TimelineOptions): Timeline
  /** Fits the single-room model over the room's stored sessions; with `name`, saves it. */
  fitRoomModel(room: string, options?: AttributeOptions & { timeline?: TimelineOptions; name?: string }): Attribution
  /** As `fitRoomModel`, off the main thread. */
  fitRoomModelAsync(
    room: string,
    options?: AttributeOptions & { timeline?: TimelineOptions; name?: string } & JobControls,
  ): Promise<Attribution>
  /** `fitRoomModel` by its explicit name (the same function): runs on the calling thread; `fitRoomModelAsync` does not. */
  fitRoomModelSync(room: string, options?: AttributeOptions & { timeline?: TimelineOptions; name?: string }): Attribution
  /**
   * Fits the room's model from per-session statistics (`RoomPlan`): two
   * passes over the stored sessions, one at a time, so that the room's
   * stacked timeline is never built. Options as `fitRoomModel`; the same
   * model for the exposure and linear forms (`form: 'auto'` is fitted as the
   * exposure form; the log link is refused).
   */
  fitRoomModelBySessions(room: string, options?: AttributeOptions & { timeline?: TimelineOptions; name?: string }): RoomFit
  /** As `fitRoomModelBySessions`, off the main thread. */
  fitRoomModelBySessionsAsync(
    room: string,
    options?: AttributeOptions & { timeline?: TimelineOptions; name?: string } & JobControls,
  ): Promise<RoomFit>
  /** `fitRoomModelBySessions` by its explicit name (the same function): runs on the calling thread; `fitRoomModelBySessionsAsync` does not. */
  fitRoomModelBySessionsSync(room: string, options?: AttributeOptions & { timeline?: TimelineOptions; name?: string }): RoomFit
  /** A saved model of a room. */
  roomModel(room: string, name: string): RoomModel
  /** Names of the models saved for a room. */
  models(room: string): string[]
  /** Saves a fitted model (`rooms/<room>/models/<name>.json`, atomically). */
  saveModel(model: RoomModel, name: string): void
  /**
   * Registers a recording on a stored session: probed (it must hold audio or
   * video), hashed and stored atomically; the same file (by sha256) cannot be
   * registered twice (`VAP_ALREADY_EXISTS`). `offsetMs` is the session-clock
   * time of the recording's position 0 (default: the session's start; when
   * unknown, transcribe, then `estimateRecordingOffset` / `setRecordingOffset`).
   */
  registerRecording(room: string, session: string, path: string, options?: { offsetMs?: Ms }): VideoRef
  /**
   * Transcribes every recording of a stored session off the JS thread and
   * replaces its utterances with the result, atomically. Each chunk is
   * checkpointed as soon as it is done; a rerun with the same recordings,
   * model and options resumes (even after the process was killed). Speakers
   * are the anchors on shift; the prompt defaults to the session's products.
   */
  transcribe(room: string, session: string, options: TranscribeOptions, onProgress?: OnProgress): Promise<Transcript>
  /** As `transcribe`, on the JS thread (`onProgress` is called synchronously). */
  transcribeSync(room: string, session: string, options: TranscribeOptions, onProgress?: OnProgress): Transcript
  /**
   * How far the transcript of recording `index` (default 0) runs ahead of the
   * platform clock (negative: the recording's offset is too small by that
   * much), from products explained on the platform vs named in its
   * utterances. Never applied: correct with
   * `setRecordingOffset(room, session, index, offsetMsNow - estimate.offsetMs)`.
   */
  estimateRecordingOffset(room: string, session: string, index?: number, options?: OffsetOptions): ClockOffset
  /**
   * Sets the offset of recording `index` and moves the utterances transcribed
   * from it by the same amount, atomically; returns the session as stored.
   */
  setRecordingOffset(room: string, session: string, index: number, offsetMs: Ms): Session
  /**
   * The video frame at session instant `tMs` as RGB pixels (and a PNG with
   * `{ png: true }`), from the recording covering it (`VAP_NOT_FOUND` when
   * none does).
   */
  still(room: string, session: string, tMs: Ms, options: StillOptions & { png: true }): SessionStill & WithPng
  still(room: string, session: string, tMs: Ms, options?: StillOptions): SessionStill
}

// ------------------------------------------------------------------ recordings

/** Kind of a stream in a recording. */
export type StreamKind = 'audio' | 'video' | 'subtitle' | 'other'

/** One stream of a recording. */
export interface StreamInfo {
  /** Index in the container. */
  index: number
  kind: StreamKind
  /** Codec name (`'aac'`, `'h264'`, ...). */
  codec: string
  /** First timestamp, ms from the container's start, when known. */
  startMs: number | null
  durationMs: number | null
  /** Audio only. */
  sampleRate: number | null
  /** Audio only. */
  channels: number | null
  /** Video only, pixels. */
  width: number | null
  /** Video only, pixels. */
  height: number | null
  /** Video only: average frames per second. */
  frameRate: number | null
}

/** What `probe` tells about a recording. */
export interface RecordingInfo {
  path: string
  /** Container format (`'mov,mp4,m4a,3gp,3g2,mj2'`, `'matroska,webm'`, ...). */
  format: string
  durationMs: number | null
  /** The container's start time, ms (position 0 is this instant of the file's own clock). */
  startMs: number
  /** Bits per second, when known. */
  bitRate: number | null
  sizeBytes: number
  /** In container order. */
  streams: StreamInfo[]
}

/** Duration, start time and streams of a recording (`VAP_IO` when missing, `VAP_FORMAT` when unreadable). */
export declare function probe(path: string): RecordingInfo

/**
 * The audio track decoded and resampled to 16 kHz mono; `startMs` / `endMs`
 * (positions, ms) decode one window, exact to the sample. A file without
 * audio is `VAP_FORMAT`.
 */
export declare function decodeAudio(path: string, options?: { startMs?: number; endMs?: number }): Float32Array

/** Options of `audioChunks` (positions and lengths in ms). */
export interface AudioChunksOptions {
  /** Chunk length (default 30 000: the core's); must be positive. */
  chunkMs?: number
  /** Position to start from (default: the beginning). */
  startMs?: number
  /** Position to stop at, exclusive (default: the end); not before `startMs`. */
  endMs?: number
}

/** One chunk of `audioChunks`. */
export interface AudioChunk {
  /** Position of the first sample, ms from the recording's start. */
  startMs: number
  /** 16 kHz mono samples. */
  samples: Float32Array
}

/**
 * A recording's audio in fixed-length chunks, decoded as it is iterated (one
 * chunk in memory at a time). An iterator: `for (const c of chunks)`, or
 * `next()` by hand; a decoding error is thrown by `next()`.
 */
export declare class AudioChunks implements IterableIterator<AudioChunk> {
  private constructor()
  /** Chunk length, ms. */
  get chunkMs(): number
  /** The next chunk, or `{ done: true }` after the last. */
  next(): IteratorResult<AudioChunk, undefined>
  /** Stops early (what `break` in a `for ... of` calls): frees the decoder. */
  return(): IteratorResult<AudioChunk, undefined>
  /** Frees the decoder; `next()` then answers `{ done: true }`. */
  close(): void
  [Symbol.iterator](): AudioChunks
}

/**
 * The audio of a recording in chunks of `chunkMs` (16 kHz mono, the last
 * chunk shorter) from `startMs` to `endMs`; concatenated, the chunks are
 * `decodeAudio(path, { startMs, endMs })`. The options are checked before
 * anything is read (`VAP_INVALID_ARGUMENT`); a missing file is `VAP_IO`, one
 * without audio `VAP_FORMAT`.
 */
export declare function audioChunks(path: string, options?: AudioChunksOptions): AudioChunks

/** `'auto'` (multilingual models only), `'zh'`, `'en'` or another whisper language code (`'ja'`, ...). */
export type Language = 'auto' | 'zh' | 'en' | (string & {})

/** Options of the transcription calls; all but `model` have defaults. Unknown keys are refused. */
export interface TranscribeOptions {
  /**
   * The whisper.cpp ggml model file (`make models` writes `models/ggml-tiny.en.bin` and `models/ggml-base.bin`, and
   * their quantised `-q8_0` / `-q5_1` variants: tiny.en q8_0 is about 16 % faster at the same recall, see the README).
   */
  model: string
  /** Default `'auto'`; an English-only model needs `'en'`. */
  language?: Language
  /** Length of a chunk, ms (default 300 000; at least 10 000). Each chunk is checkpointed. */
  chunkMs?: number
  /** Audio decoded either side of a chunk, ms (default 3 000; at most `chunkMs / 4`). */
  overlapMs?: number
  /** Threads whisper.cpp uses (default 0 = every core). */
  threads?: number
  /**
   * Voiced windows decoded side by side, each by its own decoder state on one thread (this addon's whisper.cpp
   * uses OpenBLAS, whose products round differently on more threads); at most `threads` lanes (0..=16; default 0:
   * one per thread, at most four, when a chunk has two voiced windows or more, else one). Each lane holds its own
   * decoder state (about 170 MB for base). The transcript does not depend on it.
   */
  lanes?: number
  /**
   * Decode a window again at higher temperatures when the greedy decode fails whisper's compression or
   * log-probability check (default false: 1.8x slower on base and no more words on the test media).
   */
  temperatureFallback?: boolean
  /** Beam size, 1..=16; 1 (the default) is greedy decoding. */
  beamSize?: number
  /** Primes the decoder; default for a stored session: its product names and aliases. */
  initialPrompt?: string | null
  /** Segments above this no-speech probability (and below `logprobThreshold`) are dropped (default 0.6). */
  noSpeechThreshold?: number
  /** See `noSpeechThreshold` (default -1). */
  logprobThreshold?: number
  /** Segments quieter than this RMS level, dBFS, are dropped (default -50). */
  silenceDbfs?: number
  /** The same text more than this many times in a row is dropped (default 2). */
  maxRepeats?: number
  /** Use and write checkpoints (stored sessions only; default true). */
  resume?: boolean
  /** Write Chinese in Simplified characters (default true). */
  simplifiedChinese?: boolean
  /**
   * Stops the run after the chunk in flight when aborted (rejecting with the
   * `VAP_INVALID_ARGUMENT` error that says how many chunks are checkpointed);
   * an already aborted signal is refused before anything runs.
   */
  signal?: AbortSignal
}

/** How far a transcription has come; passed to `onProgress` after every chunk. */
export interface TranscribeProgress {
  /** Chunks done so far (1-based), over all recordings. */
  done: number
  /** Chunks in all. */
  total: number
  /** Index of the recording the chunk belongs to. */
  recording: number
  /** The chunk's start, as a position in its recording (ms). */
  positionMs: number
  /** Audio covered so far, ms. */
  audioDoneMs: number
  /** Audio in all, ms. */
  audioTotalMs: number
  /** Whether the chunk came from a checkpoint rather than the model. */
  resumed: boolean
  /** Segments the chunk kept. */
  segments: number
}

/**
 * Called once per chunk on the JS thread; every call has run before the
 * Promise settles. Returning `false` stops the run after this chunk (as an
 * aborted `signal` does); an exception stops it and is what the call throws.
 */
export type OnProgress = (progress: TranscribeProgress) => boolean | void

/** What a transcription did. */
export interface TranscriptStats {
  chunks: number
  /** Chunks read back from checkpoints. */
  chunksResumed: number
  /** Chunks run through the model in this call. */
  chunksTranscribed: number
  /** Audio covered by the recordings, ms. */
  audioMs: number
  /** Audio decoded in this call, ms. */
  decodedMs: number
  /** Audio of the chunks run through the model in this call, ms. */
  transcribedMs: number
  /** Of that, audio the voice detector sent to the model, ms. */
  voicedMs: number
  /** Damaged packets skipped while decoding. */
  badPackets: number
  decodeSeconds: number
  modelSeconds: number
  droppedSilence: number
  droppedNoSpeech: number
  droppedRepeats: number
  droppedAnnotations: number
  /** Segments dropped as duplicates at chunk joins. */
  droppedDuplicates: number
  /** (decode + model seconds) per second of audio transcribed in this call (0 when none was). */
  realTimeFactor: number
}

/** The result of a transcription. */
export interface Transcript {
  /** On the session clock (file transcription: `offsetMs + position`), sorted by start. */
  utterances: Utterance[]
  /** Languages the model used per chunk, most frequent first. */
  languages: string[]
  stats: TranscriptStats
}

/**
 * Transcribes one recording file off the JS thread (no store, no
 * checkpoints, speakers unknown); utterance times are `offsetMs` (default 0)
 * plus the position.
 */
export declare function transcribe(
  path: string,
  options: TranscribeOptions & { offsetMs?: Ms },
  onProgress?: OnProgress,
): Promise<Transcript>
/** As `transcribe`, on the JS thread (`onProgress` is called synchronously). */
export declare function transcribeSync(
  path: string,
  options: TranscribeOptions & { offsetMs?: Ms },
  onProgress?: OnProgress,
): Transcript

/** Frame and keyframe times of a recording's video stream, read from the packets. */
export declare class VideoIndex {
  private constructor()
  /** The file indexed. */
  get path(): string
  /** Index of the video stream in the container. */
  get stream(): number
  /** Frame times, ms from the container start, sorted. */
  get framesMs(): Float64Array
  /** Keyframe times (a subset of `framesMs`), sorted. */
  get keyframesMs(): Float64Array
  get width(): number
  get height(): number
  /** Time of the last frame. */
  get endMs(): number
  /** Time of the frame shown at `positionMs` (the last at or before it); `null` before the first. */
  frameAt(positionMs: number): number | null
  /** The last keyframe at or before `positionMs` (where a player seeks); `null` before the first. */
  keyframeBefore(positionMs: number): number | null
}

/** Indexes the frames of a recording (`VAP_FORMAT` when it has no video). */
export declare function videoIndex(path: string): VideoIndex

/** Options of the stills. */
export interface StillOptions {
  /** Scale down to at most this many pixels wide, aspect kept (default: full size; 0 is `VAP_INVALID_ARGUMENT`). */
  maxWidth?: number
  /** Also return the frame as a PNG file (`png`), encoded by the core (default false). */
  png?: boolean
}

/** A still frame. */
export interface Still {
  /** The pixels, 8-bit RGB: `height` rows of `width` RGB triples, top row first. */
  rgb: Buffer
  /** The frame as a PNG file (8-bit RGB), when `{ png: true }` asked for it. */
  png?: Buffer
  width: number
  height: number
  /** Time of the frame shown, ms from the container start. */
  frameMs: number
  /** The recording it came from. */
  path: string
}

/** A still with its PNG file (`{ png: true }`). */
export interface WithPng {
  /** The frame as a PNG file (8-bit RGB). */
  png: Buffer
}

/** A still of a stored session (`Store.still`). */
export interface SessionStill extends Still {
  /** Index of the recording in the session. */
  recording: number
  /** Position asked for in that recording, ms. */
  positionMs: number
}

/**
 * The frame shown at `positionMs` as RGB pixels (and a PNG with `{ png: true
 * }`), decoded exactly (from the keyframe before). A position past the end
 * gives the last frame; a negative one is `VAP_INVALID_ARGUMENT`.
 */
export declare function stillFrame(path: string, positionMs: number, options: StillOptions & { png: true }): Still & WithPng
export declare function stillFrame(path: string, positionMs: number, options?: StillOptions): Still

/** A clip written by `clip`: where it really starts and ends in the recording (ms). */
export interface Clip {
  path: string
  source: string
  /** The stretch asked for, ms from the recording's start. */
  requestedMs: [number, number]
  /** Where the clip starts in the recording: the keyframe at or before the start (remux) or the frame on screen at it (exact). */
  startMs: number
  endMs: number
  /** Whether the video was re-encoded. */
  exact: boolean
}

/**
 * Writes positions `[startMs, endMs)` of the recording at `path` to `out` (the
 * container from its extension): a remux from the keyframe at or before
 * `startMs` (no re-encoding; may start up to one keyframe interval early), or
 * with `{ exact: true }` the video re-encoded from the frame on screen at
 * `startMs` (audio copied). Never leaves a partial file; a missing file is
 * `VAP_IO`, an empty stretch or one past the end `VAP_INVALID_ARGUMENT`.
 */
export declare function clip(path: string, startMs: number, endMs: number, out: string, options?: { exact?: boolean }): Clip

/**
 * The `vap` command line on `args` (without the program's name), writing to
 * the process's stdout and stderr; returns the exit code (0 done, 2 usage,
 * 3 not found, 4 bad data, 5 I/O, 6 conflict, 1 a bug). The package's `bin`
 * (`npx vap --help`) runs it.
 */
export declare function cli(args: string[]): number

/** Options of `Replay.clips` (`optionDefaults('clips')`). */
export interface ClipOptions {
  /** The top `k` moments by rank (default null: every moment of the replay). */
  top?: number | null
  /** Recording kept before each moment's start (default '10s'). */
  before?: Duration
  /** Recording kept after each moment's end (default '10s'). */
  after?: Duration
  /** Longest clip (default '3min'). */
  maxLength?: Duration
  /** Frame-exact cuts, the video re-encoded (default false: a remux from the keyframe before). */
  exact?: boolean
  /** Container, by extension (default 'mp4'). */
  format?: string
  /** Where a relative recording path resolves (default null: the stored session's directory). */
  mediaDir?: string | null
}

/** One clip of `Replay.clips` (and one entry of its `clips.json`). */
export interface ClipEntry {
  rank: number
  metric: string
  kind: string
  momentStartMs: Ms
  momentEndMs: Ms
  topPart: string | null
  /** The clip's file, relative to the clips folder. */
  file: string
  recording: string
  /** Where it was cut in the recording, ms. */
  startMs: number
  endMs: number
  /** The clip's first instant on the session clock. */
  sessionStartMs: Ms
  exact: boolean
}

/** Where a session instant is in the recordings. */
export interface Located {
  /** Index of the recording in the session's list. */
  recording: number
  path: string
  /** `session time - offsetMs`. */
  positionMs: number
}

/** Severity of whisper.cpp's log lines. */
export type WhisperLogLevel = 'debug' | 'info' | 'warn' | 'error'

/**
 * Where whisper.cpp's own log lines go, for the whole process: dropped
 * (`'silent'`, the default) or written to stderr prefixed `whisper: `, from
 * `minLevel` (default `'info'`) up.
 */
export declare function setWhisperLog(mode: 'silent'): void
export declare function setWhisperLog(mode: 'stderr', minLevel?: WhisperLogLevel): void

// ------------------------------------------------------------------ misc

/** Sets the number of threads vap uses (0 = number of CPUs). */
export declare function setNumThreads(n: number): void
/** The number of threads vap's pool runs. */
export declare function numThreads(): number
/** The version of vap. */
export declare function version(): string
/** Panics inside vap on purpose; throws `VAP_INTERNAL`. For tests only. */
export declare function __panicForTests(message: string): never

// ------------------------------------------------------------------ alignment

/** A duration: ms, or a string such as `'500ms'`, `'10s'`, `'1min'`, `'2h'`. */
export type Duration = number | string

/** Phrase groups: group name → phrases (matched after NFKC, lower case, Traditional → Simplified). */
export type LexiconGroups = Record<string, string[]>

/** Options of `Session.timeline`. */
export interface TimelineOptions {
  /** Bin width (default `'1s'`). */
  step?: Duration
  /** Start of a custom range, ms (default: the session's start). */
  start?: number
  /** End of a custom range, ms, exclusive (default: the session's end). */
  end?: number
  /**
   * `'spread'` (default): a flow sample's amount accrued since the previous
   * sample is spread over that span; `'point'`: counted at its timestamp.
   */
  flow?: 'spread' | 'point'
  /** How long a gauge observation stays valid (default max(60 s, 3 × median spacing)). */
  gaugeMaxStaleness?: Duration
  /** Per-product columns (default true). */
  perProduct?: boolean
  /** Phrase groups (default `builtinLexicon()`). */
  lexicon?: LexiconGroups
  /** Add a `product:<id>` group with each product's name and aliases (default true). */
  productPhrases?: boolean
}

/** What a timeline column holds. */
export type ColumnKind = 'flow' | 'gauge' | 'rate' | 'count' | 'sum' | 'interval' | 'lexicon' | 'transform'

/** Metadata of a timeline column. */
export interface ColumnInfo {
  name: string
  kind: ColumnKind
  /** Where it comes from (`metric:gmv`, `orders.amount (paid)`, ...). */
  source: string
  unit: string
  hasMissing: boolean
}

/** A regular grid. */
export interface Grid {
  startMs: Ms
  stepMs: Ms
  n: number
}

/** The rows of one session in a timeline. */
export interface SessionSpan {
  roomId: string
  sessionId: string
  grid: Grid
  rows: { start: number; end: number }
  /** The session's IANA time zone, for display (times stay UTC). */
  timezone: string
}

/** A column-major matrix: `data[j * rows + i]` is row `i` of column `j`. */
export interface Matrix {
  rows: number
  columns: string[]
  data: Float64Array
}

/** A saturation curve: Hill `x^s / (x^s + (k·max)^s)`, or with `curve: 'log'`
 * `ln(1 + x / (k·max))` (the slope unused); `k` is `inflexion`, relative to the
 * column's maximum before carryover. */
export interface Saturation {
  slope: number
  inflexion: number
  /** Absent for the Hill curve. */
  curve?: 'hill' | 'log'
}

/** A transform of one column into a new one (`Timeline.derive`). */
export type Transform =
  | { kind: 'lag' | 'lead'; bins: number }
  | { kind: 'adstock'; halfLifeBins: number; normalize?: boolean }
  | { kind: 'weibull'; shape: number; scaleBins: number; maxLagBins: number }
  | { kind: 'hill'; slope: number; inflexion: number }

/**
 * Every stream of a session (or of a room's sessions) on one regular grid of
 * closed-left bins. A missing bin is `NaN` in `column()`, `1` in `missing()`
 * and `null` in `toObjects()`, never a silent zero.
 */
export declare class Timeline {
  private constructor()
  /** Number of bins. */
  get length(): number
  /** Column names, in order. */
  get columns(): string[]
  /** Per-column metadata. */
  get columnInfo(): ColumnInfo[]
  /** Bin width in ms. */
  get stepMs(): number
  /** The sessions and their rows. */
  get spans(): SessionSpan[]
  /** Bin starts, ms since the epoch. */
  time(): Float64Array
  /** One column. */
  column(name: string): Float64Array
  /** The missing-bin mask of a column (1 = missing). */
  missing(name: string): Uint8Array
  /** The named columns (default all) as one column-major matrix. */
  matrix(names?: string[]): Matrix
  /** Rows as plain objects: `time`, `session_id` (room view), then the columns. */
  toObjects(): Array<{ time: number; session_id?: string } & Record<string, number | null>>
  /** The timeline as an Arrow IPC stream: `time`, the session keys of a room timeline, a nullable `Float64` per column with its metadata. */
  toArrowIpc(): Uint8Array
  /** Adds a column derived from `source`, session by session; returns its name. */
  derive(source: string, transform: Transform, name?: string): string
  /** Appends a column of your own (`NaN` = missing). */
  addColumn(name: string, values: ArrayLike<number>, options?: { kind?: ColumnKind; unit?: string }): void
}

/** The room view of several sessions of one room, aligned in parallel. */
export declare function roomTimeline(sessions: Session[], options?: TimelineOptions): Timeline
/** As `roomTimeline`, off the main thread. */
export declare function roomTimelineAsync(sessions: Session[], options?: TimelineOptions): Promise<Timeline>
/** `roomTimeline` by its explicit name (the same function): runs on the calling thread; `roomTimelineAsync` does not. */
export declare function roomTimelineSync(sessions: Session[], options?: TimelineOptions): Timeline

/** Options of the clock-offset estimators. */
export interface OffsetOptions {
  /** Bin width (default `'5s'` for the transcript; required for `estimateOffset`). */
  step?: Duration
  /** Largest offset searched, either way (default `'60s'`). */
  maxLag?: Duration
  /** Confidence needed to call the offset determined (default 0.99). */
  minConfidence?: number
  /** Circular shifts drawn for the null distribution (default 200). */
  nullDraws?: number
  /** Seed of those draws (default 0). */
  seed?: number
}

/**
 * An estimated clock offset: the other stream's clock reads `offsetMs` ahead
 * of the reference (`utterance time = platform time + offset`).
 */
export interface ClockOffset {
  status: 'determined' | 'undetermined'
  /** `null` when undetermined. */
  offsetMs: number | null
  lagBins: number
  subBin: number
  correlation: number
  z: number
  confidence: number
  stepMs: number
  maxLagMs: number
  channels: number
  reason: string
}

/** A binned series, or paired channels as an array of series. */
export type Series = ArrayLike<number> | ArrayLike<number>[]

/** Clock offset between two binned streams by cross-correlation. */
export declare function estimateOffset(
  reference: Series,
  other: Series,
  options: OffsetOptions & { step: Duration },
): ClockOffset

/** Options of `asofJoin` (pandas `merge_asof` / polars `join_asof` semantics). */
export interface AsofOptions {
  /** Key column (numbers; ms for times). */
  on: string
  /** Columns whose values must be equal. */
  by?: string | string[]
  /** Default `'backward'`; `'nearest'` takes the backward row on a tie. */
  direction?: 'backward' | 'forward' | 'nearest'
  /** Largest distance, inclusive. */
  tolerance?: Duration
  /** Whether equal keys match (default true). */
  allowExactMatches?: boolean
  /** Suffix of clashing right column names (default `'_right'`). */
  suffix?: string
}

/** For each left row, the right row as of its key; right columns are `null` without a match. */
export declare function asofJoin(
  left: Record<string, unknown>[],
  right: Record<string, unknown>[],
  options: AsofOptions,
): Record<string, unknown>[]

/** Text as the lexicon matches it: NFKC, lower case, Simplified Chinese. */
export declare function fold(text: string): string
/** vap's built-in phrase groups. */
export declare function builtinLexicon(): LexiconGroups
/** Matches per group of a lexicon in one text. */
export declare function lexiconCount(lexicon: LexiconGroups, text: string): Record<string, number>

// ------------------------------------------------------------------ moments

/** A change-point cost: mean shifts, mean and variance, or counts. */
export type CostName = 'l2' | 'normal' | 'poisson'

/** Options of `pelt`, `dynp` and `binseg`. */
export interface ChangePointOptions {
  /** Default `'l2'`. */
  cost?: CostName
  /** `'robust'` (default: 4·ln n × a long-run noise variance robust to
   * trends, autocorrelation and outliers), `'bic'` or a number per change point. */
  penalty?: 'robust' | 'bic' | number
  /** Shortest segment (default 5; a shorter series is one segment; `'normal'` needs 2 points). */
  minSize?: number
}

/** Change points: segment ends (the last is `n`, as in ruptures). */
export interface Segmentation {
  breakpoints: number[]
  /** Segment costs plus `penalty` per change point. */
  penalizedCost: number
  penalty: number
}

/** Exact PELT (tested against `dynp` for every `minSize`). */
export declare function pelt(x: ArrayLike<number>, options?: ChangePointOptions): Segmentation
/** The exact optimum by dynamic programming, O(n²). */
export declare function dynp(x: ArrayLike<number>, options?: ChangePointOptions): Segmentation
/** Binary segmentation: greedy, approximate. */
export declare function binseg(x: ArrayLike<number>, options?: ChangePointOptions): Segmentation

/** Options of `Session.moments`. */
export interface MomentOptions {
  /** Bin width of the scan (default `'30s'`). */
  step?: Duration
  /** Timeline columns to scan (default `orders`, `entries`, `online_viewers`,
   * `product_clicks`, `comments`, where present). */
  metrics?: string[]
  /** Rolling-median baseline width (default `'20min'`). */
  window?: Duration
  /** Robust z-score of the smoothed residual (default 3.5). */
  threshold?: number
  /** Moving-average width of the residuals (default `'150s'`). */
  smooth?: Duration
  /** Shortest moment (default `'60s'`). */
  minDuration?: Duration
  /** Runs closer than this merge (default `'60s'`). */
  mergeGap?: Duration
  /** Remove a slow trend first. */
  detrend?: boolean
  /** Also report PELT level shifts. */
  shifts?: boolean
  penalty?: 'robust' | 'bic' | number
  /** Minimum segment of the level-shift search (default `'10min'`). */
  minSegment?: Duration
  /** |ln ratio| above which exposure counts as moved (default 0.1). */
  exposureChange?: number
  /** The same for the rate, orders per viewer (default 0.25). */
  rateChange?: number
}

/** A moment of truth on one metric. */
export interface Moment {
  metric: string
  startMs: Ms
  endMs: Ms
  kind: 'peak' | 'drop' | 'shift'
  driver: 'traffic' | 'conversion' | 'both' | 'unclear'
  /** Excess over the baseline, in the metric's units (yuan for `order_gmv`). */
  magnitude: number
  score: number
  /** |magnitude| as a share of the metric's session total. */
  share: number
  /** The baseline, one value per bin. */
  baseline: number[]
  /** Position of the start in the first recording, when there is one. */
  videoMs: Ms | null
  /** The streams that moved with it (online viewers, entries, orders, GMV,
   * product clicks, comments), the strongest first. */
  moved: Moved[]
}

/** A stream that moved in a moment. */
export interface Moved {
  metric: string
  /** Relative change against the baseline (-0.62: 62 % below). */
  change: number
  /** Its largest robust z-score in the moment's bins (signed). */
  score: number
}

/** Overlapping moments of several metrics; kind and driver are its strongest member's. */
export interface MomentEvent {
  startMs: Ms
  endMs: Ms
  kind: 'peak' | 'drop' | 'shift'
  driver: 'traffic' | 'conversion' | 'both' | 'unclear'
  /** Indices into the moments given. */
  members: number[]
}

/**
 * The `k` largest moments: of one metric by |magnitude|, or across metrics by
 * share. `k` and `metric` may come as `{ k, metric }`; defaults:
 * `optionDefaults('top')`.
 */
export declare function topMoments(
  moments: Moment[],
  k?: number | { k?: number; metric?: string },
  metric?: string,
): Moment[]
/**
 * Moments grouped into events: those that overlap or lie within the gap (ms, a
 * duration string or `{ gap }`; default `optionDefaults('events')`).
 */
export declare function momentEvents(moments: Moment[], gap?: Duration | { gap?: Duration }): MomentEvent[]

// ---------------------------------------------------------------- attribution

/** How traffic enters the model. */
export type AttributionForm = 'auto' | 'exposure' | 'log_link' | 'linear'

/** A factor: a timeline column and how it acts. */
export interface Factor {
  column: string
  name?: string
  /** Durations to search: adstock half-lives, or hold windows with `carryoverKind: 'hold'`. */
  carryover?: Duration | Duration[]
  /** `'auto'`: adstock and hold both searched, cross-validation keeps one. */
  carryoverKind?: 'adstock' | 'hold' | 'auto'
  /** Hill saturation: `[slope, inflexion]` (inflexion relative to the column
   * maximum), `['log', scale]`: `ln(1 + x / (scale · maximum))`, or `'auto'`:
   * linear and S-shaped searched (under the log link the logarithmic curve too). */
  saturation?: [number, number] | ['log', number] | Saturation | 'auto'
  /** Sign constraint (default `'free'`). */
  sign?: 'free' | 'positive' | 'negative'
}

/** Options of `attribute` (see the README section "Attribution"). */
export interface AttributeOptions {
  /** Target column (default `'order_gmv'`). */
  target?: string
  /** Default `'auto'`: `'exposure'` (`y = e·(β0 + Σβx)`) or `'log_link'` (`y ~ Poisson(e·exp(β0 + Σβx))`), whichever the blocked cross-validation prefers (see `diagnostics().form`). */
  form?: AttributionForm
  /** Default `'ridge'`. */
  estimator?: 'ridge' | 'elastic_net' | 'ols'
  /** Elastic-net mixing (default 0.5). */
  l1Ratio?: number
  /** Exposure column (default `'online_viewers'`); `null` for none. */
  exposure?: string | null
  /** Multiply the exposure by the expected order value of what is in focus (default: for targets in yuan). */
  priceLevel?: boolean
  /** Factors (default `defaultFactors(timeline)`): column names or `Factor`s. */
  factors?: Array<string | Factor>
  /** Linear trend within each session (default false). */
  trend?: boolean
  /** Time-of-day harmonic pairs (default 0). */
  timeOfDay?: number
  /** Session fixed effects when several sessions are fitted (default true). */
  sessionEffects?: boolean
  /** Base level in the linear and log-link forms (default true). */
  intercept?: boolean
  /** Penalise standardised factors (default true). */
  standardize?: boolean
  /** A fixed penalty (no cross-validation). */
  penalty?: number
  /** Penalties to cross-validate (default 30 log-spaced). */
  penalties?: number[]
  /** Blocked CV folds (default 5). */
  folds?: number
  /** Bins left out either side of a test fold (default `'5min'`). */
  gap?: Duration
  /** Bootstrap block (default `'10min'`). */
  block?: Duration
  /** Moving-block bootstrap replicates (default 200). */
  bootstrap?: number
  seed?: number
  /** Share held out at the end for the diagnostics (default 0.2). */
  holdout?: number
  /** Largest carryover grid searched exhaustively (default 5000). */
  maxCandidates?: number
  /** The split of traffic into paid and natural where the timeline has ad spend. */
  ads?: AdsOptions
}

/** How traffic is split into paid and natural (see `Attribution.paid`). */
export interface AdsOptions {
  /** Split where the spend column spends something (default true). */
  enabled?: boolean
  /** Spend column, yuan per bin (default `'ad_spend'`, Compass' `stat_cost`). */
  spend?: string
  /** Entries column also modelled on the spend (default `'entries'`). */
  entries?: string
  /** Carryover half-lives tried, chosen by blocked cross-validation (ms or `'90s'`; default 0 s to 20 min). */
  carryover?: Array<number | string>
}

/** A value with its bootstrap 95 % interval (`low`/`high` NaN without replicates). */
export interface Interval {
  value: number
  low: number
  high: number
}

/** How viewers or entries respond to the ad spend. */
export interface SpendResponse {
  column: string
  /** Chosen half-life from spend to the column (ms). */
  carryoverMs: Ms
  /** Half-lives the cross-validation cannot tell from the chosen one; the intervals span them. */
  plausibleMs: Ms[]
  /** Rise of the column per yuan spent per bin at a steady spend (entries: paid entries per yuan). */
  perYuan: Interval
  cv: Array<{ carryoverMs: Ms; cvError: number }>
  /** Exit rate per bin that turned paid entries into paid viewers (viewers only). */
  exitRate: number | null
  /** Σ paid over the bins. */
  paid: number
  /** Paid share of the column's total. */
  share: number
}

/** Traffic split into paid and natural (`Attribution.paid`). */
export interface PaidTraffic {
  spendColumn: string
  /** Total spend (yuan). */
  spend: number
  viewers: SpendResponse
  entries: SpendResponse | null
  /** Σ of the part of baseline + traffic the paid viewers account for (null in the linear form). */
  paidTraffic: number | null
  /** The paid viewers' predicted GMV with its interval. */
  paidGmv: Interval | null
  /** Return on ad spend: paid GMV per yuan. */
  roi: Interval | null
  notes: string[]
  /** Per bin, on the decomposition's rows. */
  series: {
    timeMs: Ms[]
    spend: number[]
    viewers: number[]
    paidViewers: number[]
    paidEntries: number[]
    paidTraffic: number[]
    paidGmv: number[]
  }
}

/** The ads inside a moment. */
export interface MomentAds {
  spend: number
  paidEntries: number | null
  paidViewers: number
  paidShare: number
  /** The part of the moment's traffic part the ads brought (against the reference window). */
  paidTraffic: number | null
  /** The paid viewers' predicted GMV inside the moment, with its interval. */
  paidGmv: Interval | null
  /** Paid GMV per yuan spent inside the moment, with its interval. */
  roi: Interval | null
}

/** The session's ads in the replay. */
export interface AdsSummary {
  spend: number
  paidEntries: number | null
  paidEntriesShare: number | null
  entriesPerYuan: Interval | null
  paidViewersShare: number
  carryoverMs: Ms
  paidTraffic: number | null
  paidGmv: Interval | null
  roi: Interval | null
  notes: string[]
}

/** A fitted coefficient (analytic SE for OLS / unpenalised Poisson; bootstrap always). */
export interface Coefficient {
  name: string
  role: 'base' | 'traffic' | 'control' | 'session' | 'factor'
  halfLifeMs: number
  /** A factor's carryover shape as chosen by the cross-validation (null for other columns). */
  carryoverKind: 'adstock' | 'hold' | null
  /** A factor's saturation as chosen (null: linear). */
  saturation: Saturation | null
  value: number
  stdError: number | null
  ciLow: number | null
  ciHigh: number | null
  bootSe: number | null
  bootLow: number | null
  bootHigh: number | null
}

/** Fit diagnostics. */
export interface AttributionDiagnostics {
  nBins: number
  nDropped: number
  nCoefficients: number
  r2: number | null
  nrmse: number | null
  holdoutR2: number | null
  holdoutNrmse: number | null
  holdoutMape: number | null
  vif: Array<[string, number]>
  conditionNumber: number | null
  durbinWatson: number | null
  residualAutocorrelation: number | null
  candidates: number
  /** Pairs of factors the data cannot tell apart (columns correlated at 0.9 or more). */
  confounded: Array<{ a: string; b: string; correlation: number }>
  /** The form fitted: the one asked for, or the one `form: 'auto'` chose. */
  form: 'exposure' | 'log_link' | 'linear'
  /** With `form: 'auto'`, each form tried and its cross-validated mean squared error per bin (the lower was fitted). */
  formCv: Array<[string, number]>
  warnings: string[]
}

/** A component's total with its bootstrap interval. */
export interface Part {
  name: string
  value: number
  low: number | null
  high: number | null
  share: number | null
}

/** A moment's excess split across traffic and the factors; parts sum to `excess`. */
export interface MomentAttribution {
  metric: string
  startMs: Ms
  endMs: Ms
  excess: number
  /** Largest first, `unexplained` last. */
  parts: Part[]
  referenceMs: [Ms, Ms]
}

/** Totals inside a group of windows. */
export interface GroupTotals {
  label: string
  bins: number
  actual: number
  prediction: number
  parts: Array<[string, number]>
}

/** A fitted attribution model. */
export declare class Attribution {
  private constructor()
  get coefficients(): Coefficient[]
  get cv(): Array<{ penalty: number; error: number }>
  get diagnostics(): AttributionDiagnostics
  /** Traffic split into paid and natural where the timeline has ad spend; null otherwise. */
  get paid(): PaidTraffic | null
  get penalty(): number
  get model(): RoomModel
  get decomposition(): Decomposition
}

/** Per bin: `baseline + traffic + Σ factors = prediction`, exactly. */
export declare class Decomposition {
  private constructor()
  get length(): number
  get target(): string
  get factors(): string[]
  /** As an Arrow IPC stream: `time`, `session_id`, `actual`, `prediction`, `baseline`, `traffic`, one column per factor. */
  toArrowIpc(): Uint8Array
  time(): Float64Array
  /** `actual`, `prediction`, `baseline`, `traffic` or a factor. */
  column(name: string): Float64Array
  totals(): Part[]
  totalsBy(groups: Record<string, Array<[Ms, Ms]>>): GroupTotals[]
  totalsByAnchor(sessions: Session[]): GroupTotals[]
  totalsByShift(sessions: Session[]): GroupTotals[]
  totalsByProduct(sessions: Session[]): GroupTotals[]
  moment(moment: Moment, options?: { window?: Duration }): MomentAttribution
  window(start: Ms, end: Ms, options?: { window?: Duration; excess?: number }): MomentAttribution
}

/** A fitted single-room model. */
export declare class RoomModel {
  private constructor()
  static fromJson(text: string): RoomModel
  toJsonString(): string
  toObject(): Record<string, unknown>
  apply(timeline: Timeline): Decomposition
}

/**
 * What `RoomFit` can diagnose from sums: usable and dropped bins, in-sample
 * R², VIF per factor, condition number, candidates searched, warnings.
 */
export interface RoomFitSummary {
  coefficients: Coefficient[]
  cv: Array<{ penalty: number; error: number }>
  nBins: number
  nDropped: number
  r2: number | null
  vif: Array<[string, number]>
  conditionNumber: number | null
  candidates: number
  warnings: string[]
}

/**
 * A room's model fitted from per-session statistics, so that the room's
 * history is never in one place: `RoomPlan.summarise` each session's
 * attribution timeline (JSON text), `RoomPlan.fromSummaries`, `plan.gram`
 * each session (a `Buffer`), then `plan.fit` / `plan.fitAsync` the
 * statistics. Each pass runs wherever the sessions are (worker threads,
 * other processes, other hosts). The model `Store.fitRoomModel` fits on the
 * stacked room, to rounding, for the exposure and linear forms;
 * `form: 'auto'` is fitted as the exposure form (a warning says so) and the
 * log link is refused (its IRLS needs the rows).
 */
export declare class RoomPlan {
  private constructor()
  /** A session's summary (JSON text), from its attribution timeline; `options` as `attribute` (the target). */
  static summarise(timeline: Timeline, options?: AttributeOptions | null): string
  /** Plans the fit from every session's summary (any order, each once) under the model's options. */
  static fromSummaries(summaries: string[], options?: AttributeOptions | null): RoomPlan
  /** Reads a plan from its JSON text (format and version checked). */
  static fromJson(text: string): RoomPlan
  /** The plan as JSON text (ship it to where the sessions are). */
  toJsonString(): string
  /** The plan as a plain object. */
  toObject(): Record<string, unknown>
  /** The sessions, in the room's order (start, then id). */
  get sessions(): string[]
  /** One session's statistics from its attribution timeline: `VAPGRAM1`, a JSON header, then f64s. */
  gram(timeline: Timeline): Buffer
  /** The room's model from every session's statistics (any order, each once). */
  fit(grams: Uint8Array[]): RoomFit
  /** As `fit`, off the main thread; `signal` stops it, `onProgress` hears the carryover search and the bootstrap. */
  fitAsync(grams: Uint8Array[], options?: JobControls | null): Promise<RoomFit>
  /** `fit` by its explicit name (the same function): runs on the calling thread; `fitAsync` does not. */
  fitSync(grams: Uint8Array[]): RoomFit
}

/** A room model fitted from per-session statistics (`RoomPlan.fit`, `Store.fitRoomModelBySessions`). */
export declare class RoomFit {
  private constructor()
  /** The model (`apply` decomposes each session). */
  get model(): RoomModel
  /** Coefficients with their bootstrap intervals. */
  get coefficients(): Coefficient[]
  /** Cross-validation curve of the penalty. */
  get cv(): Array<{ penalty: number; error: number }>
  /** Warnings: the plan's, each session's (named), the fit's. */
  get warnings(): string[]
  /** Everything but the model, as a plain object. */
  toObject(): RoomFitSummary
}

/** Fits the single-room attribution model on a timeline. */
export declare function attribute(timeline: Timeline, options?: AttributeOptions): Attribution
/** As `attribute`, off the main thread. */
export declare function attributeAsync(timeline: Timeline, options?: AttributeOptions & JobControls): Promise<Attribution>
/** `attribute` by its explicit name (the same function): runs on the calling thread; `attributeAsync` does not. */
export declare function attributeSync(timeline: Timeline, options?: AttributeOptions): Attribution
/** The factors `attribute` uses when none are given. */
export declare function defaultFactors(timeline: Timeline): Array<Required<Omit<Factor, 'saturation' | 'carryoverKind'>> & { saturation: Saturation | 'auto' | null; carryoverKind: 'adstock' | 'hold' | 'auto'; carryoverMs: number[] }>
/** Sessions of one room as attribution timelines, stacked (step 10 s by default). */
export declare function attributionTimeline(sessions: Session[], options?: TimelineOptions): Timeline
/** A timeline of your own columns on the grid `start + k·step`. */
export declare function timelineFromColumns(
  columns: Record<string, ArrayLike<number>>,
  options?: { step?: Duration; start?: Ms; kind?: ColumnKind },
): Timeline

// ------------------------------------------------------------------ replays

/** What a viewer asks about. */
export type QuestionKind = 'price' | 'stock_size' | 'usage' | 'shipping' | 'which_product' | 'other'

/**
 * The kind of question a comment asks, or null when it is not a question
 * (information requests in Chinese and English chat; exclamations such as
 * "这是什么神仙操作" are not questions).
 */
export declare function questionKind(text: string): QuestionKind | null
/** The names of a replay's tables (a new array each call). */
export declare function replayTables(): string[]
/** The names of a replay's tables, from the core (frozen). */
export declare const REPLAY_TABLES: readonly string[]

/** Options of `Session.questions` (`optionDefaults('questions')`). */
export interface QuestionOptions {
  /** How long after a question an answer is looked for (default '3min'). */
  answerWindow?: Duration
  /** A product explained this long before a question is still in focus (default '2min'). */
  focusGrace?: Duration
}

/** Options of the data-quality scan (`replay`'s `quality`). */
export interface QualityOptions {
  /** Shortest silence worth a note (default '1min'). */
  minGap?: Duration
  /** Events the stream's own rate must put in a silence for a note (default 13.8). */
  expectedEvents?: number
  /** A metric hole: samples this many median intervals apart (default 3). */
  holeFactor?: number
}

/** Options of `Session.replay` / `Store.replay` (`optionDefaults('replay')`). */
export interface ReplayOptions {
  /** How many top moments (default 5). */
  top?: number
  /** Transcript and comments shown either side of a moment (default '60s'). */
  context?: Duration
  /** Comments kept per moment (default 40). */
  contextComments?: number
  /** Bin width of the curves (default '1min'). */
  curveStep?: Duration
  /** Longest carryover window after an explain segment (default '5min'). */
  carryover?: Duration
  /** Window after a phrase in which orders count for it (default '60s'). */
  follow?: Duration
  /** Uses below which a phrase is marked weak (default 5). */
  minSupport?: number
  /** Earlier sessions needed to compare with history (default 4). */
  minHistory?: number
  /** Unanswered questions listed (default 100). */
  listQuestions?: number
  /** Window of a question backlog (default '10min'). */
  backlogWindow?: Duration
  /** Unanswered questions that make a backlog (default 5). */
  minBacklog?: number
  /** Share of a group's questions unanswered for a backlog (default 0.8). */
  backlogShare?: number
  /** Fit the attribution model (default true). */
  attribute?: boolean
  /** A start or a length further than this from the run-sheet is a deviation (default 120 000 = 2 min). */
  planTolerance?: Duration
  /** Moment detection. */
  moments?: MomentOptions
  /** The attribution timeline. */
  timeline?: TimelineOptions
  /** The attribution model. */
  model?: AttributeOptions
  /** Question detection and answers. */
  questions?: QuestionOptions
  /** The data-quality scan. */
  quality?: QualityOptions
}

/** Options of `Session.subtitles` (`optionDefaults('subtitles')`). */
export interface SubtitleOptions {
  /** What becomes subtitles (default 'transcript'). */
  stream?: 'transcript' | 'comments'
  /** SubRip or WebVTT (default 'srt'). */
  format?: 'srt' | 'vtt'
  /** Index of the recording whose clock the cues follow (default 0). */
  recording?: number
  /** The transcript's clock offset, applied to the comments (default 0). */
  offset?: Duration
  /** How long a comment stays on screen (default '4s'). */
  commentDuration?: Duration
}

/** Options of `Replay.toHtml` / `Replay.writeHtml` (`optionDefaults('report')`). */
export interface ReportOptions {
  /** Labels in Chinese or English (default 'zh'). */
  lang?: 'zh' | 'en'
  /** The curves drawn, by the replay's series names (default order_gmv, orders, online_viewers, gpm). */
  curves?: string[]
  /** Recordings sit beside the report: each moment gets a `<video>` seeking to its second (default false). */
  videoBeside?: boolean
  /** Transcript lines and comments shown per moment, at most (default 12). */
  contextLines?: number
  /** Unanswered questions listed, at most (default 30). */
  listQuestions?: number
  /** A `<div class="vap-report">` with its scoped style, to place in another page, instead of a whole document (default false). */
  fragment?: boolean
  /** Each moment's still frame embedded as a PNG when its recording is found (default true). */
  stills?: boolean
  /** Width of the stills in pixels, at most (default 320). */
  stillWidth?: number
  /** The room report (`Store.roomHtml`) ends with the room's playbook where the room has enough sessions (default true). */
  playbook?: boolean
}

/** A figure of a replay: where it comes from, missing (null, with why) where the data cannot support it. */
export interface Figure {
  key: string
  /** Chinese label. */
  label: string
  labelEn: string
  unit: string
  value: number | null
  source: 'raw' | 'derived' | 'model'
  from: string
  low?: number | null
  high?: number | null
  missing?: string | null
  history?: History | null
}

/** A figure in the room's history: median and top quartile of earlier stored sessions. */
export interface History {
  sessions: number
  median: number | null
  topQuartile: number | null
  percentile: number | null
  enough: boolean
}

/** A model estimate with its 95 % interval. */
export interface Estimate {
  name: string
  value: number
  low: number | null
  high: number | null
  share: number | null
}

/** A note on the data. */
export interface QualityNote {
  stream: string
  kind: 'gap' | 'silent' | 'hole' | 'truncated' | 'absent' | 'clock' | 'outside' | 'mismatch'
  startMs: Ms | null
  endMs: Ms | null
  expected: number | null
  message: string
}

/** Data quality, to read first. */
export interface Quality {
  notes: QualityNote[]
  transcriptOffsetMs: number | null
  transcriptOffsetStatus: 'determined' | 'undetermined' | null
  ordersOutside: number
}

/** The curves of a replay on its grid. */
export interface Curves {
  stepMs: number
  timeMs: Ms[]
  series: Array<{ name: string; unit: string; source: 'raw' | 'derived' | 'model'; values: Array<number | null> }>
}

/** A top moment with its causes and everything around it. */
export interface MomentReplay {
  rank: number
  metric: string
  kind: 'peak' | 'drop' | 'shift'
  driver: 'traffic' | 'conversion' | 'both' | 'unclear'
  startMs: Ms
  endMs: Ms
  magnitude: number
  score: number
  share: number
  target: string | null
  excess: number | null
  parts: Estimate[]
  recording: { recording: number; path: string; positionMs: number } | null
  productInFocus: string | null
  promotions: string[]
  transcript: Utterance[]
  comments: Comment[]
  commentsInContext: number
  questionsInContext: number
  dataGap: string | null
  /** The ads inside the moment where the session has ad spend; null otherwise. */
  ads: MomentAds | null
}

/** How one of the anchor's phrases went with orders. */
export interface PhraseStat {
  phrase: string
  group: string
  uses: number
  ordersAfter: number
  lift: number | null
  low: number | null
  high: number | null
  weak: boolean
}

/** Questions asked and answered; `byKind`: kind → [asked, answered]. */
export interface QuestionStats {
  asked: number
  answered: number
  share: number | null
  medianLatencyS: number | null
  byKind: Record<string, [number, number]>
}

/** One explain segment of a product. */
export interface ExplainReplay {
  startMs: Ms
  endMs: Ms
  minutes: number
  gmv: number
  orders: number
  clicks: number | null
  conversion: number | null
  carryEndMs: Ms
  carryGmv: number
  carryOrders: number
  gmvPerMinute: number | null
}

/** The product replay (商品复盘). */
export interface ProductReplay {
  productId: string
  name: string
  price: number
  segments: ExplainReplay[]
  explainMinutes: number
  gmv: number
  orders: number
  gmvPerExplainMinute: Figure
  contribution: Estimate | null
  phrases: PhraseStat[]
  questions: QuestionStats
}

/** One shift of an anchor. */
export interface ShiftReplay {
  role: 'host' | 'co_host' | 'field_control'
  startMs: Ms
  endMs: Ms
  hours: number
  gmv: number
  orders: number
  views: number | null
  gmvPerHour: number | null
  gpm: number | null
  uvValue: number | null
  effect: Estimate | null
}

/** The anchor replay (主播复盘). */
export interface AnchorReplay {
  anchorId: string
  name: string
  shifts: ShiftReplay[]
  hostHours: number
  gmvPerHour: Figure
  gpm: Figure
  uvValue: Figure
  effect: Figure
  phrases: PhraseStat[]
  questions: QuestionStats
}

/** A promotion with what happened while it ran. */
export interface PromotionReplay {
  id: string
  kind: string
  label: string | null
  productId: string | null
  startMs: Ms
  endMs: Ms
  minutesIn: number
  minutes: number
  gmv: number
  orders: number
  contribution: Estimate | null
}

/** A viewer's question. */
export interface Question {
  tsMs: Ms
  viewerId: string
  text: string
  kind: QuestionKind
  productId: string | null
  linkedBy: 'number' | 'name' | 'focus' | null
  /** The answer; `explicit` when the utterance says it answers ("这位宝宝问"). */
  answer: { tsMs: Ms; latencyMs: number; text: string; speaker: string | null; explicit: boolean } | null
}

/** Unanswered questions about one product and kind piling up. */
export interface Backlog {
  productId: string | null
  kind: QuestionKind
  startMs: Ms
  endMs: Ms
  unanswered: number
  viewers: number
}

/** A replay as plain data (`Replay.toJSON()`). */
export interface ReplayData {
  roomId: string
  sessionId: string
  title: string | null
  startMs: Ms
  endMs: Ms
  timezone: string
  historySessions: string[]
  /** Where a copied recording's relative path resolves (the stored session's directory; null for data in memory). */
  mediaDir: string | null
  /** The session against its run-sheet (null without one); also `table('plan')`. */
  plan: PlanReview | null
  /** Why the run-sheet could not be compared. */
  planError: string | null
  quality: Quality
  headline: Figure[]
  curves: Curves
  model: {
    target: string
    totals: Estimate[]
    r2: number | null
    holdoutR2: number | null
    warnings: string[]
    /** Paid and natural traffic where the session has ad spend; null otherwise. */
    ads: AdsSummary | null
    /** The parts over time on the curves' grid (`curves.time_ms`): baseline, traffic, each factor and `unexplained`; each step's parts add up to the target's actual value. As a table: `table('contributions')`. */
    overTime: Array<{ name: string; unit: string; source: 'raw' | 'derived' | 'model'; values: Array<number | null> }>
  } | null
  modelError: string | null
  moments: MomentReplay[]
  products: ProductReplay[]
  anchors: AnchorReplay[]
  promotions: PromotionReplay[]
  questions: { stats: QuestionStats; backlogs: Backlog[]; unanswered: Question[] }
}

/** What a session contributes to its room's history. */
export interface SessionDigest {
  sessionId: string
  startMs: Ms
  headline: Record<string, number>
  /** Product id → [explain minutes, GMV while explained]. */
  products: Record<string, [number, number]>
  /** Anchor id → [hours hosting, GMV, views or null]. */
  anchors: Record<string, [number, number, number | null]>
}

/** Products and anchors across a room's stored sessions. */
export interface RoomReplay {
  roomId: string
  /** The room's name (from its latest session). */
  name: string | null
  /** The time zone of its latest session. */
  timezone: string
  sessions: SessionDigest[]
  products: Array<{
    productId: string
    sessions: number
    explainMinutes: number
    gmvWhileExplained: number
    gmvPerExplainMinute: number | null
    perSession: Array<[string, number, number]>
  }>
  anchors: Array<{
    anchorId: string
    sessions: number
    hours: number
    gmv: number
    gmvPerHour: number | null
    gpm: number | null
    effect: Estimate | null
  }>
  modelError: string | null
}

/** A session replay (直播复盘) with its product and anchor replays. */
export declare class Replay {
  private constructor()
  /** The whole replay as plain data (every question: `table('questions')`). */
  toJSON(): ReplayData
  /** The replay as one role reads it: 'operator', 'anchor' or 'fieldControl'. */
  view(role: 'operator' | 'anchor' | 'fieldControl' | 'field_control'): Partial<ReplayData> & { role: string }
  /** Table `name` (one of `REPLAY_TABLES`) as row objects (times as ms; missing values null). */
  table(name: string): Record<string, unknown>[]
  /** Table `name` as an Arrow IPC stream (`tableFromIPC` of `apache-arrow` reads it). */
  tableIpc(name: string): Uint8Array
  /** Writes every table into `dir` as CSV or Parquet; returns the paths. */
  writeTables(dir: string, format: 'csv' | 'parquet'): string[]
  /** The report (直播复盘报告) as one self-contained HTML document: no script, nothing fetched, SVG charts drawn from the data; data quality first, then `#operator`, `#anchor`, `#field-control`. */
  toHtml(options?: ReportOptions): string
  /** As `toHtml`, off the event loop (the libuv thread pool). */
  toHtmlAsync(options?: ReportOptions): Promise<string>
  /** `toHtml` by its explicit name (the same function): runs on the calling thread; `toHtmlAsync` does not. */
  toHtmlSync(options?: ReportOptions): string
  /** Writes the report to `path` whole or not at all (a moment's recording becomes a `<video>` when its file sits beside the report); returns the path. */
  writeHtml(path: string, options?: ReportOptions): string
  /** As `writeHtml`, off the event loop. */
  writeHtmlAsync(path: string, options?: ReportOptions): Promise<string>
  /** `writeHtml` by its explicit name (the same function): runs on the calling thread; `writeHtmlAsync` does not. */
  writeHtmlSync(path: string, options?: ReportOptions): string
  /** Cuts the top moments out of their recordings into `outDir`, one clip per moment and a `clips.json` manifest; a session without a recording is `VAP_NOT_FOUND`. */
  clips(outDir: string, options?: ClipOptions): ClipEntry[]
  /** As `clips`, off the event loop (FFmpeg's cutting on the libuv thread pool). */
  clipsAsync(outDir: string, options?: ClipOptions): Promise<ClipEntry[]>
  /** `clips` by its explicit name (the same function): runs on the calling thread; `clipsAsync` does not. */
  clipsSync(outDir: string, options?: ClipOptions): ClipEntry[]
}

// ------------------------------------------------------------------ live

/** Options of the alerts of a `LiveSession` (`optionDefaults('alerts')`). */
export interface AlertOptions {
  /** Which kinds fire (default: all). */
  kinds?: AlertKind[] | null
  /** The recent window a conversion drop is judged on, ms (default 600 000 = 10 min). */
  window?: Ms | string
  /** The window before it it is compared with, ms (default 1 800 000 = 30 min). */
  baseline?: Ms | string
  /** How far (Poisson z-score) recent orders must fall below what the earlier rate predicts at the recent traffic (default 3). */
  z?: number
  /** Unanswered questions that make a backlog (default 5). */
  backlog?: number
  /** How far back a backlog counts questions, ms (default 600 000 = 10 min); at most one backlog alert per window. */
  backlogWindow?: Ms | string
  /** How questions and their answers are found. */
  questions?: QuestionOptions
  /** An explain running this many times its planned length overruns (default 1.5). */
  overrun?: number
  /** The window after (and before) a host change, ms (default 300 000 = 5 min). */
  anchorWindow?: Ms | string
  /** Relative fall of online viewers after a host change that alerts (default 0.15). */
  anchorDrop?: number
  /** Shortest silence of a stream that alerts, ms (default 120 000 = 2 min). */
  silence?: Ms | string
  /** Items a stream must have had before its silence counts (default 10). */
  minItems?: number
}

/** Options of a `LiveSession` (`optionDefaults('live')`). */
export interface LiveOptions {
  /** Bin width, ms (default: the room model's, else 10 s). */
  step?: Ms | string | null
  /** How far behind the newest time seen an event may arrive, ms (default 120 000 = 2 min); older ones are refused and counted. */
  lateness?: Ms | string
  /** How long comments and transcript lines are kept behind the newest time, ms (default 1 800 000 = 30 min; null keeps them all). */
  horizon?: Ms | string | null
  /** Per-product columns (default true). */
  perProduct?: boolean
  /** The moment scan (its step is the live step). */
  detect?: MomentOptions
  /** When alerts fire. */
  alerts?: AlertOptions
}

/** Options of a `CaptureFollower` (`optionDefaults('follow')`). */
export interface FollowOptions {
  /** 'douyin' or 'tiktok' (default: told from the first message). */
  format?: 'douyin' | 'tiktok' | null
  /** Read only what is appended from now on (default false). */
  fromEnd?: boolean
}

/**
 * One thing that happened, as it arrives (camelCase, as `liveFeed` and
 * `CaptureFollower.poll` give it; the core's snake_case names `ts_ms`,
 * `viewer_id`... and the short `ts` / `start` / `end` / `product` / `anchor` /
 * `viewer` are accepted too). Times are epoch ms, `Date`s or ISO text. An
 * interval without `endMs` is open until the same interval (same start)
 * arrives with it.
 */
export type LiveEvent =
  | { type: 'comment'; tsMs?: Ms | Date; ts?: Ms | Date; viewerId?: string; text: string }
  | {
      type: 'order'
      tsMs?: Ms | Date
      ts?: Ms | Date
      id?: string | null
      productId?: string
      product?: string
      amount: number
      quantity?: number
      status?: 'paid' | 'refunded'
    }
  | { type: 'sample'; metric: string; tsMs?: Ms | Date; ts?: Ms | Date; value: number }
  | { type: 'utterance'; startMs?: Ms | Date; start?: Ms | Date; endMs?: Ms | Date; end?: Ms | Date; text: string; speaker?: string | null }
  | { type: 'explain'; productId?: string; product?: string; startMs?: Ms | Date; start?: Ms | Date; endMs?: Ms | Date | null; end?: Ms | Date | null }
  | {
      type: 'shift'
      anchorId?: string
      anchor?: string
      role?: 'host' | 'co_host' | 'field_control'
      startMs?: Ms | Date
      start?: Ms | Date
      endMs?: Ms | Date | null
      end?: Ms | Date | null
    }
  | {
      type: 'promotion'
      id: string
      kind: PromotionKind
      productId?: string | null
      product?: string | null
      startMs?: Ms | Date
      start?: Ms | Date
      endMs?: Ms | Date | null
      end?: Ms | Date | null
    }
  | { type: 'tick'; tsMs?: Ms | Date; ts?: Ms | Date }

/** What an alert is about. */
export type AlertKind =
  | 'conversion_drop'
  | 'question_backlog'
  | 'explain_overrun'
  | 'viewers_after_anchor_change'
  | 'stream_silent'
  | 'moment'

/** A factor behind an alert: a model contribution that changed, a stream that moved, or what was on air. */
export interface AlertFactor {
  name: string
  /** A contribution's change (target units per minute) or a stream's relative change; null for what was on air. */
  value: number | null
  what: string
}

/** An alert of a `LiveSession`. */
export interface Alert {
  kind: AlertKind
  /** When it fired (the watermark). */
  atMs: Ms
  startMs: Ms
  endMs: Ms
  message: string
  messageZh: string
  metric: string | null
  productId: string | null
  anchorId: string | null
  factors: AlertFactor[]
  /** A backlog's questions (the 20 most recent). */
  questions: string[]
}

/** What one append changed. */
export interface LiveUpdate {
  watermarkMs: Ms
  bins: number
  rebuiltFromMs: Ms | null
  accepted: number
  refusedLate: number
  newMoments: Moment[]
  alerts: Alert[]
}

/**
 * A session kept up to date while the stream runs: only the bins new events
 * touch are rebuilt, and the timeline, moments and decomposition equal the
 * batch computation on the same events (`data()`). Emits `'moment'` (a moment
 * new to the list), `'alert'` and `'update'`.
 */
export declare class LiveSession extends EventEmitter {
  /** From `session`'s header (room, start, products, anchors, metrics, run-sheet; its rows are not read). */
  constructor(session: Session, options?: LiveOptions | null, model?: RoomModel | null)
  /** Appends events; bad ones are all reported at once (`ValidationError`) and none is taken. */
  append(events: LiveEvent | LiveEvent[]): LiveUpdate
  /** As `append`, off the event loop. */
  appendAsync(events: LiveEvent | LiveEvent[]): Promise<LiveUpdate>
  /** `append` by its explicit name (the same function): runs on the calling thread; `appendAsync` does not. */
  appendSync(events: LiveEvent | LiveEvent[]): LiveUpdate
  /** Moves the watermark without events (a heartbeat: silences are noticed when nothing arrives). */
  advance(nowMs: Ms | Date): LiveUpdate
  /** Appends what a follower's capture log gained since its last poll. */
  follow(follower: CaptureFollower): LiveUpdate
  timeline(): Timeline
  moments(): Moment[]
  alerts(): Alert[]
  decomposition(): Decomposition | null
  /** The session as the events so far make it (open intervals end at the watermark). */
  data(): Session
  get watermarkMs(): Ms | null
  get stepMs(): Ms
  get droppedText(): number
  on(event: 'alert', listener: (alert: Alert) => void): this
  on(event: 'moment', listener: (moment: Moment) => void): this
  on(event: 'update', listener: (update: LiveUpdate) => void): this
}

/** Follows a capture tool's JSON Lines log (Douyin or TikTokLive) as it is written, like `tail -f`. */
export declare class CaptureFollower {
  constructor(path: string, options?: FollowOptions | null)
  /** The events in the lines appended since the last poll (a half-written line waits). */
  poll(): LiveEvent[]
  get lines(): number
  get skipped(): number
  get repeats(): number
}

/** A session's rows as the events a live feed would have delivered, in arrival order; with `everyMs`, batches of that much stream. */
export declare function liveFeed(session: Session, everyMs?: number | null): LiveEvent[] | LiveEvent[][]
