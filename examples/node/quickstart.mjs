// Quickstart: simulate a live session, keep it in a store, load it back and
// print its summary.
//
//   npm install            # builds the native addon
//   node examples/node/quickstart.mjs [store-dir]
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const vap = require('../../index.js') // `require('vap')` once installed as a package

const storeDir = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'vap-quickstart-')), 'store')

// 1. A seeded synthetic room: one hour, with its ground truth.
const { data, truth } = await vap.simulateAsync({ seed: 7, hours: 1 })
console.log(`simulated ${data.room.id}/${data.session.id}: ${data.numRows('orders')} orders, ` +
  `${data.numRows('comments')} comments, ${truth.moments.length} planted moments`)

// 2. Into the embedded store (Parquet on disk).
const store = new vap.Store(storeDir)
store.importSession(data, { replace: true })
console.log(`store at ${store.root}:`, store.sessions().map((s) => `${s.roomId}/${s.sessionId}`))

// 3. Back out, and summarised.
const loaded = await store.loadAsync(data.room.id, data.session.id)
const s = loaded.summary()
console.log(`${s.hours.toFixed(1)} h, ${s.anchors} anchors, ${s.products} products, ` +
  `${s.comments} comments from ${s.commenters} viewers`)
console.log(`GMV gross ${s.gmv.gross.toFixed(0)} yuan (net ${s.gmv.net.toFixed(0)}), ` +
  `GPM ${s.gpm?.toFixed(1) ?? 'n/a'}, peak viewers ${s.peakViewers ?? 'n/a'}`)
for (const [id, name, gross] of s.topProducts) console.log(`  ${id.padEnd(6)} ${name.padEnd(12)} ${gross.toFixed(0)}`)

// Errors carry a stable code (and, for bad input, every problem found).
try {
  store.importSession(data)
} catch (e) {
  console.log(`re-import refused: ${e.code}`)
}

// 4. The timeline: the transcript put on the platform clock (explicitly), then
//    every stream on one 1-minute grid, as typed arrays.
const offset = loaded.estimateTranscriptOffset()
const aligned = offset.status === 'determined' ? loaded.applyOffset(offset) : loaded
console.log(`transcript offset ${offset.offsetMs?.toFixed(0)} ms (${offset.status}, planted ${truth.clockOffsetMs})`)
const tl = aligned.timeline({ step: '1min' })
const gmv = tl.column('order_gmv')
const best = [...gmv.keys()].sort((a, b) => gmv[b] - gmv[a]).slice(0, 3)
const rows = tl.toObjects()
for (const i of best) {
  console.log(`  minute ${i}: ${gmv[i].toFixed(0)} yuan, GPM ${rows[i].gpm?.toFixed(0)}, ` +
    `explaining ${rows[i]['explain:any']}, urgency phrases ${rows[i]['speech:urgency']}`)
}

// 5. Attribution: one model of the session (factors on conversion, traffic as
//    exposure); the largest GMV moment split into its causes.
const fit = aligned.attribute({ timeline: { step: '10s' }, bootstrap: 50 })
const m = aligned.moments().find((x) => x.metric === 'order_gmv')
if (m) {
  const why = fit.decomposition.moment(m)
  console.log(`moment ${why.excess.toFixed(0)} yuan: ` +
    why.parts.slice(0, 3).map((p) => `${p.name} ${p.value.toFixed(0)}`).join(', '))
}
console.log(`attribution R² ${fit.diagnostics.r2.toFixed(2)}, ${fit.coefficients.length} coefficients`)

// 6. The replay (直播复盘): data quality first, the headline, the top moments
//    with their causes; every table as row objects.
const replay = aligned.replay({ model: { bootstrap: 50 } }).toJSON()
for (const note of replay.quality.notes) console.log(`data quality: ${note.message}`)
for (const f of replay.headline.filter((x) => ['gmv_gross', 'gpm', 'answered_share'].includes(x.key))) {
  console.log(`${f.label} (${f.labelEn}): ${f.value} [${f.source}]`)
}
if (replay.moments.length) {
  const top = replay.moments[0]
  console.log(`top moment ${top.kind} on ${top.metric}: ` +
    top.parts.slice(0, 3).map((p) => `${p.name} ${p.value.toFixed(0)}`).join(', '))
}

// 7. The plan (直播脚本): a run-sheet as operators write it, against what ran,
// each deviation valued by the attribution model.
const t0 = aligned.session.startMs
const sheet = vap.readRunSheet(
  aligned
    .table('segments')
    .filter((x) => x.kind === 'explain')
    .slice(0, 3)
    .map((x) => ({ 类型: '商品', 开始时间: `+${Math.floor((x.start_ms - t0) / 60_000) + 3}min`, 时长: 6, 商品: x.product_id })),
)
const review = aligned.withPlan(sheet).planVsActual({ model: { bootstrap: 50 } })
console.log(`plan vs actual: ${review.onPlan} on plan, ${review.offPlan} off plan`)
for (const d of review.items.slice(0, 3)) {
  console.log(`${d.kind} ${d.name}: ${d.status}${d.effect ? `, model says ${d.effect.value.toFixed(0)} yuan` : ''}`)
}
