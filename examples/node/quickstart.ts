// Quickstart in TypeScript (type-checked by `npx tsc --noEmit -p tsconfig.json`):
// simulate a live session, keep it in a store, load it back, print its summary.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { simulate, Store, type Attribution, type ClockOffset, type Part, type Figure, type Order, type Summary, type Timeline, type VapError } from '../../index.js'

export function quickstart(storeDir: string = join(mkdtempSync(join(tmpdir(), 'vap-')), 'store')): Summary {
  const { data, truth } = simulate({ seed: 7, hours: 1 })
  console.log(`${data.room.id}/${data.session.id}: ${truth.moments.length} planted moments`)

  const store = new Store(storeDir)
  store.importSession(data, { replace: true })

  const loaded = store.load(data.room.id, data.session.id)
  const orders: Order[] = loaded.table('orders')
  const refunds = orders.filter((o) => o.status === 'refunded').length
  const summary = loaded.summary()
  console.log(`GMV ${summary.gmv.gross.toFixed(0)} yuan from ${orders.length} order rows (${refunds} refunds)`)
  for (const [id, name, gross] of summary.topProducts) console.log(`  ${id} ${name} ${gross.toFixed(0)}`)

  try {
    store.importSession(data)
  } catch (err) {
    const e = err as VapError
    console.log(`re-import refused: ${e.code} (${e.problems.length} problems)`)
  }

  // The timeline, on the platform clock: typed arrays and column metadata.
  const offset: ClockOffset = loaded.estimateTranscriptOffset({ maxLag: '60s' })
  const aligned = offset.status === 'determined' ? loaded.applyOffset(offset) : loaded
  const tl: Timeline = aligned.timeline({ step: '1min' })
  const gpm: Float64Array = tl.column('gpm')
  const kinds = tl.columnInfo.filter((c) => c.kind === 'interval').map((c) => c.name)
  console.log(`timeline ${tl.length} x ${tl.columns.length}; GPM of minute 0: ${gpm[0]}; intervals: ${kinds.length}`)

  // Attribution: totals per factor with bootstrap intervals.
  const fit: Attribution = aligned.attribute({ timeline: { step: '10s' }, bootstrap: 20 })
  const parts: Part[] = fit.decomposition.totals()
  console.log(`attribution: ${parts.map((p) => `${p.name} ${p.value.toFixed(0)}`).join(', ')}`)

  // The replay: the headline, each figure with its source.
  const headline: Figure[] = aligned.replay({ attribute: false }).toJSON().headline
  console.log(headline.slice(0, 3).map((f) => `${f.label} ${f.value ?? '—'} [${f.source}]`).join(' · '))
  return summary
}

quickstart()
