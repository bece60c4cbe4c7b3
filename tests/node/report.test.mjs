import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { vap, tempDir, assertVapError } from './helpers.mjs'

const QUICK = { model: { bootstrap: 20, seed: 1 } }

let cached
function rep() {
  cached ??= vap.simulate({ seed: 11, hours: 1.5 }).data.replay(QUICK)
  return cached
}

/** Tags opened and closed in order (the report is well-formed XML too). */
function balanced(page) {
  const stack = []
  for (const m of page.replace(/^<!DOCTYPE html>\n/, '').matchAll(/<(\/?)([a-z0-9]+)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClosing] = m
    if (selfClosing) continue
    if (close) {
      const open = stack.pop()
      if (open !== name) return `</${name}> closes <${open}>`
    } else stack.push(name)
  }
  return stack.length ? `unclosed ${stack.join(',')}` : null
}

test('the report is one self-contained page drawn from the replay', () => {
  const r = rep()
  const data = r.toJSON()
  const page = r.toHtml()
  assert.ok(page.startsWith('<!DOCTYPE html>'))
  assert.equal(balanced(page), null)
  for (const banned of ['<script', '<link', '@import', 'url(', 'src="http', 'href="http']) {
    assert.ok(!page.includes(banned), banned)
  }
  const curves = vap.optionDefaults('report').curves
  const charts = page.split('<svg class="chart" data-chart="curve"').slice(1).map((c) => c.slice(0, c.indexOf('</svg>')))
  assert.equal(charts.length, curves.length)
  charts.forEach((c, i) => {
    assert.ok(c.includes(`data-series-name="${curves[i]}"`))
    assert.equal(c.split('class="series"').length - 1, 1)
    assert.equal(c.split('class="moment-marker"').length - 1, data.moments.length)
    // One point per known value of the replay's curve.
    const values = data.curves.series.find((s) => s.name === curves[i]).values
    const d = /class="series" data-series="[^"]*" d="([^"]*)"/.exec(c)[1]
    assert.equal((d.match(/[ML]/g) ?? []).length, values.filter((v) => v !== null).length)
  })
  for (const m of data.moments) assert.ok(page.includes(`id="moment-${m.rank}"`))
  const at = (id) => page.indexOf(`id="${id}"`)
  assert.ok(at('quality') >= 0 && at('quality') < at('operator'))
  assert.ok(at('operator') < at('anchor') && at('anchor') < at('field-control'))
})

test('English, fragments and files', (t) => {
  const r = rep()
  const en = r.toHtml({ lang: 'en' })
  assert.ok(en.includes('lang="en"') && en.includes('Session replay'))
  const frag = r.toHtml({ fragment: true })
  assert.ok(frag.startsWith('<div class="vap-report"') && !frag.includes('<html'))
  assert.equal(balanced(frag), null)
  const dir = tempDir(t)
  const out = join(dir, 'report.html')
  assert.equal(r.writeHtml(out, { lang: 'en' }), out)
  assert.equal(readFileSync(out, 'utf8'), en)
  assert.deepEqual(readdirSync(dir), ['report.html'])
})

test('bad report options and paths are typed errors', (t) => {
  const r = rep()
  const e = assertVapError(() => r.toHtml({ curves: ['gmvPerHour'] }), 'VAP_INVALID_ARGUMENT')
  assert.match(e.message, /gmvPerHour/)
  assertVapError(() => r.toHtml({ lang: 'fr' }), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => r.toHtml({ colour: 'red' }), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => r.writeHtml(join(tempDir(t), 'missing', 'r.html')), 'VAP_IO')
  assert.equal(vap.optionDefaults('report').lang, 'zh')
})

test('the room report: every stored session, product and anchor', (t) => {
  const dir = tempDir(t)
  const store = new vap.Store(join(dir, 'store'))
  const day = 86_400_000
  for (let k = 0; k < 3; k++) {
    store.importSession(vap.simulate({ seed: 60 + k, hours: 1.5, anchors: 3, startMs: 1_764_072_000_000 + k * day, sessionId: `s${k}` }).data)
  }
  const rr = store.roomReplay('sim-room', { attribute: false })
  const page = store.roomHtml('sim-room', {}, { attribute: false })
  balanced(page)
  assert.equal(page.match(/<tr data-session=/g).length, rr.sessions.length)
  assert.equal((page.match(/<tr data-product=/g) ?? []).length, rr.products.length)
  assert.equal(page.match(/<tr data-anchor=/g).length, rr.anchors.length)
  const chart = page.split('data-chart="session-gmv"')[1].split('</svg>')[0]
  const values = [...chart.matchAll(/data-value="([^"]+)"/g)].map((m) => Number(m[1]))
  assert.deepEqual(values, rr.sessions.map((d) => d.headline.gmv_gross))
  assert.equal(rr.timezone, 'Asia/Shanghai')
  const en = store.roomHtml('sim-room', { lang: 'en', fragment: true }, { attribute: false })
  assert.ok(en.startsWith('<div class="vap-report"') && en.includes('Room review'))
  const out = join(dir, 'room.html')
  assert.equal(store.writeRoomHtml('sim-room', out, {}, { attribute: false }), out)
  assert.equal(readFileSync(out, 'utf8'), page)
  assertVapError(() => store.roomHtml('no-room'), 'VAP_NOT_FOUND')
  assertVapError(() => store.roomHtml('sim-room', { lang: 'fr' }), 'VAP_INVALID_ARGUMENT')
})
