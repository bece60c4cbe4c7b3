// Runs tests/agreement/calls.json through the Node package; prints the
// results as JSON (one entry per call: its result, or its error code).
// Option names are written in snake_case in calls.json (as Python takes them)
// and turned into camelCase here (as Node takes them), except the phrase
// groups of a lexicon, which are data. Results come back with camelCase field
// names (Python's are snake_case); where this runner passes a result object
// through whole (a playbook's flash sales, a source report), the comparison
// identifies keys by their letters and digits, ignoring case and underscores
// (compare.py, agreement.test.mjs).
'use strict'

const fs = require('node:fs')
const path = require('node:path')
const vap = require('../../index.js')

const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())

function camelKeys(v, verbatim = []) {
  if (Array.isArray(v)) return v.map((x) => camelKeys(x))
  if (v && typeof v === 'object') {
    const out = {}
    for (const [k, x] of Object.entries(v)) out[camel(k)] = verbatim.includes(k) ? x : camelKeys(x)
    return out
  }
  return v
}

const opts = (o) => camelKeys(o || {}, ['lexicon'])

function nansum(a) {
  let s = 0
  for (const x of a) if (!Number.isNaN(x)) s += x
  return s
}

function timeline(tl) {
  const cols = tl.columns
  return {
    rows: tl.length,
    step_ms: tl.stepMs,
    start_ms: tl.length ? tl.time()[0] : null,
    columns: cols,
    sums: cols.map((c) => nansum(tl.column(c))),
    missing: cols.map((c) => tl.missing(c).reduce((a, b) => a + b, 0)),
  }
}

function clean(v) {
  if (typeof v === 'number' && !Number.isFinite(v)) return null
  if (Array.isArray(v)) return v.map(clean)
  if (v && typeof v === 'object') {
    const out = {}
    for (const [k, x] of Object.entries(v)) out[k] = clean(x)
    return out
  }
  return v === undefined ? null : v
}

/** The parts of a replay both bindings must agree on (as run.py). */
function replay(r) {
  return {
    headline: r.headline.map((f) => [f.key, f.value, f.source]),
    quality: r.quality.notes.map((n) => [n.stream, n.kind, n.startMs]),
    moments: r.moments.map((m) => [m.rank, m.metric, m.startMs, m.excess, m.parts.map((p) => [p.name, p.value])]),
    products: r.products.map((p) => [p.productId, p.explainMinutes, p.gmv, p.contribution ? p.contribution.value : null]),
    anchors: r.anchors.map((a) => [a.anchorId, a.gmvPerHour.value, a.effect.value]),
    questions: r.questions.stats,
    model_error: r.modelError,
  }
}

function runCall(call, rooms, series) {
  const o = opts(call.options)
  switch (call.op) {
    case 'simulate': {
      const { data } = vap.simulate(o)
      const s = data.summary()
      return {
        session: s.sessionId,
        start_ms: data.session.startMs,
        orders: s.gmv.paidOrders,
        gmv: s.gmv.gross,
        comments: s.comments,
      }
    }
    case 'read_sources': {
      const fx = path.join(__dirname, '..', 'fixtures', 'imports')
      const got = vap.readSources(call.files.map(([f, format]) => ({ path: path.join(fx, f), format })), o)
      const rep = got.sourceReport ?? {}
      const meta = got.session
      const pick = (k) => (rep[k] === undefined ? null : rep[k])
      return {
        session: [meta.id, meta.roomId, meta.startMs, meta.endMs],
        rows: Object.fromEntries(['comments', 'orders', 'segments', 'products', 'metrics'].map((t) => [t, got.numRows(t)])),
        metrics: got.metrics.map((m) => [m.name, m.kind]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
        facts: meta.facts ?? {},
        gaps: meta.gaps ?? [],
        report: Object.fromEntries(['files', 'fields', 'dropped', 'duplicates', 'checks', 'notes', 'offsets'].map((k) => [k, pick(k)])),
      }
    }
    case 'defaults':
      return Object.fromEntries(vap.OPTION_SETS.map((n) => [n, vap.optionDefaults(n)]))
    case 'resolve':
      return vap.resolveOptions(call.set, o)
    case 'segment': {
      const seg = vap[call.method](series[call.series], o)
      return { breakpoints: seg.breakpoints, penalized_cost: seg.penalizedCost }
    }
    case 'question_kind':
      return call.texts.map((t) => vap.questionKind(t))
  }
  if (call.op === 'playbook') {
    const pb = vap.playbook(
      call.rooms.map((r) => rooms[r]),
      o,
    )
    return {
      anchors: pb.anchors.map((a) => [a.anchorId, a.category, a.evidence.value, a.evidence.weak]),
      flash: pb.flashSales,
      recommendations: pb.recommendations.map((r) => [r.kind, r.weak]),
      draft: pb.draft.items,
    }
  }
  if (call.op === 'room_plan') {
    const tls = call.rooms.map((r) => rooms[r].attributionTimeline(opts(call.timeline ?? {})))
    const plan = vap.RoomPlan.fromSummaries(
      tls.map((t) => vap.RoomPlan.summarise(t, o)),
      o,
    )
    const grams = tls.map((t) => plan.gram(t))
    const fit = plan.fit(grams)
    const f = fit.toObject()
    return {
      sessions: plan.sessions,
      gram_bytes: grams.map((g) => g.length),
      penalty: fit.model.toObject().penalty,
      coefficients: fit.coefficients.map((c) => [c.name, c.value, c.bootLow, c.bootHigh]),
      n_bins: f.nBins,
      r2: f.r2,
      warnings: fit.warnings,
    }
  }
  if (call.op === 'run_sheet_csv') return vap.runSheetToCsv(vap.readRunSheet(call.sheet))
  if (call.op === 'playbook_html') {
    return vap.playbookHtml(
      vap.playbook(
        call.rooms.map((r) => rooms[r]),
        o,
      ),
      call.report,
    )
  }
  const s = rooms[call.room]
  if (call.op === 'live') {
    const live = new vap.LiveSession(s, o)
    if (call.events) live.append(call.events)
    for (const batch of vap.liveFeed(s, call.every)) live.append(batch)
    const tl = live.timeline()
    return {
      watermark: live.watermarkMs,
      bins: tl.length,
      orders: [...tl.column('orders')].reduce((a, b) => a + b, 0),
      moments: live.moments().map((m) => [m.metric, m.startMs, m.endMs, m.kind]),
      alerts: live.alerts().map((a) => [a.kind, a.atMs, a.startMs, a.endMs, a.metric, a.questions, a.factors.map((f) => f.name)]),
    }
  }
  switch (call.op) {
    case 'plan': {
      const r = s.withPlan(vap.readRunSheet(call.sheet)).planVsActual(o)
      const eff = (e) => (e === null ? null : [e.value, e.low, e.high])
      return {
        counts: [r.onPlan, r.offPlan, r.added],
        items: r.items.map((d) => [d.kind, d.status, d.subject, d.planned, d.actual, d.startDeltaMs, eff(d.effect), d.pointsSaid, d.pointsMissed]),
        total: eff(r.effectTotal),
      }
    }
    case 'timeline':
      return timeline(s.timeline(o))
    case 'attribution_timeline':
      return timeline(s.attributionTimeline(o))
    case 'moments':
      return s.moments(o).map((m) => ({
        metric: m.metric,
        start_ms: m.startMs,
        end_ms: m.endMs,
        kind: m.kind,
        driver: m.driver,
        magnitude: m.magnitude,
        share: m.share,
      }))
    case 'offset': {
      const c = s.estimateTranscriptOffset(o)
      return { status: c.status, offset_ms: c.offsetMs, confidence: c.confidence }
    }
    case 'replay':
      return replay(s.replay(o).toJSON())
    case 'questions':
      return s.questions(o).map((q) => [q.tsMs, q.kind, q.productId, q.answer ? q.answer.tsMs : null])
    case 'subtitles':
      return s.subtitles(o)
    case 'report':
      return s.replay(call.replay ?? {}).toHtml(o)
    case 'attribute': {
      const fit = s.attribute({ ...o, timeline: opts(call.timeline) })
      return {
        penalty: fit.penalty,
        coefficients: fit.coefficients.map((c) => [c.name, c.value]),
        totals: fit.decomposition.totals().map((p) => [p.name, p.value, p.low, p.high]),
        form: fit.diagnostics.form,
        form_cv: fit.diagnostics.formCv,
        confounded: fit.diagnostics.confounded.map((c) => [c.a, c.b, c.correlation]),
        paid: ((p) =>
          p === null
            ? null
            : {
                spend: p.spend,
                entries: [p.entries.carryoverMs, p.entries.perYuan.value, p.entries.paid],
                viewers: [p.viewers.carryoverMs, p.viewers.paid],
                paid_gmv: [p.paidGmv.value, p.paidGmv.low, p.paidGmv.high],
                roi: [p.roi.value, p.roi.low, p.roi.high],
              })(fit.paid),
      }
    }
  }
  throw new Error(`unknown op ${call.op}`)
}

function main() {
  const spec = JSON.parse(fs.readFileSync(path.join(__dirname, 'calls.json'), 'utf8'))
  const rooms = {}
  for (const [k, v] of Object.entries(spec.rooms)) rooms[k] = vap.simulate(opts(v)).data
  const out = {}
  for (const call of spec.calls) {
    try {
      out[call.name] = { ok: clean(runCall(call, rooms, spec.series)) }
    } catch (e) {
      if (!e.code || !e.code.startsWith('VAP_')) throw e
      out[call.name] = { error: e.code }
    }
  }
  process.stdout.write(JSON.stringify(out))
}

main()
