import { test } from 'node:test'
import assert from 'node:assert/strict'
import { vap } from './helpers.mjs'

const ADS = { seed: 4, hours: 3, entriesPerSecond: 40, adSpendPerHour: 60_000, entriesPerYuan: 0.5 }

let cached
function room() {
  cached ??= vap.simulate(ADS)
  return cached
}

const near = (a, b, rel) => Math.abs(a - b) <= rel * Math.abs(b)

test('planted ad spend is recovered: paid entries, paid GMV and ROI with intervals', () => {
  const { data, truth } = room()
  const fit = data.attribute({ bootstrap: 40, seed: 3 })
  const paid = fit.paid
  assert.ok(paid, 'a room with spend gets the split')
  assert.ok(near(paid.spend, truth.ads.spend, 1e-9))
  assert.equal(paid.spendColumn, 'ad_spend')
  assert.ok(near(paid.entries.perYuan.value, truth.ads.entriesPerYuan, 0.25), `${paid.entries.perYuan.value}`)
  assert.ok(near(paid.entries.paid, truth.ads.paidEntries, 0.25))
  const roi = paid.roi
  assert.ok(roi.low <= roi.value && roi.value <= roi.high)
  assert.ok(near(roi.value, truth.ads.paidGmv / truth.ads.spend, 0.35))
  assert.ok(paid.entries.plausibleMs.includes(paid.entries.carryoverMs))
  // the series add up to the totals
  const sum = (v) => v.reduce((a, x) => (Number.isFinite(x) ? a + x : a), 0)
  assert.ok(near(sum(paid.series.paidGmv), paid.paidGmv.value, 1e-9))
  assert.equal(paid.series.timeMs.length, fit.decomposition.length)
})

test('the replay shows the ads per session and per moment; without spend nothing', () => {
  const rep = room().data.replay({ model: { bootstrap: 20, seed: 1 } }).toJSON()
  const ads = rep.model.ads
  assert.ok(ads && ads.spend > 0 && ads.paidEntries > 0)
  assert.ok(ads.roi.low <= ads.roi.value && ads.roi.value <= ads.roi.high)
  assert.ok(rep.moments.length > 0 && rep.moments.every((m) => m.ads !== null))
  const spent = rep.moments.filter((m) => m.ads.spend > 0)
  assert.ok(spent.length > 0)
  for (const m of spent) {
    const r = m.ads.roi
    assert.ok(Number.isFinite(r.value) && r.low <= r.value && r.value <= r.high && m.ads.paidShare >= 0 && m.ads.paidShare <= 1)
  }
  const plain = vap.simulate({ seed: 4, hours: 1, entriesPerSecond: 40 })
  assert.equal(plain.truth.ads, null)
  assert.equal(plain.data.attribute({ bootstrap: 0 }).paid, null)
  const off = room().data.attribute({ bootstrap: 0, ads: { enabled: false } })
  assert.equal(off.paid, null)
  assert.throws(() => room().data.attribute({ ads: { spend: '' } }), (e) => e.code === 'VAP_INVALID_ARGUMENT' && /ads\.spend/.test(e.message))
})
