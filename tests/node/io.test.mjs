import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { vap, SMALL, tempDir, assertSameSession, assertVapError, assertRejects } from './helpers.mjs'

for (const format of ['csv', 'jsonl', 'parquet']) {
  test(`writeDir / loadDir round trip in ${format}`, (t) => {
    const { data } = vap.simulate(SMALL)
    const dir = join(tempDir(t), 'session')
    data.writeDir(dir, format)
    assert.ok(existsSync(join(dir, 'manifest.json')))
    for (const name of vap.TABLE_NAMES) assert.ok(existsSync(join(dir, `${name}.${format}`)), name)
    const loaded = vap.loadDir(dir)
    assertSameSession(loaded, data)
    assert.deepEqual(loaded.summary(), data.summary())
  })
}

test('writeDir defaults to csv', (t) => {
  const { data } = vap.simulate(SMALL)
  const dir = tempDir(t)
  data.writeDir(dir)
  assert.ok(existsSync(join(dir, 'orders.csv')))
})

test('loadDirAsync resolves to the same session', async (t) => {
  const { data } = vap.simulate(SMALL)
  const dir = tempDir(t)
  data.writeDir(dir, 'jsonl')
  const loaded = await vap.loadDirAsync(dir)
  assertSameSession(loaded, data)
})

test('pseudonymizeKey replaces viewer ids on load', (t) => {
  const { data } = vap.simulate(SMALL)
  const dir = tempDir(t)
  data.writeDir(dir, 'csv')
  const plain = vap.loadDir(dir)
  const hashed = vap.loadDir(dir, { pseudonymizeKey: 'secret' })
  const a = plain.table('comments')[0]
  const b = hashed.table('comments')[0]
  assert.equal(a.text, b.text)
  assert.notEqual(a.viewer_id, b.viewer_id)
})

test('load errors carry their codes', async (t) => {
  const dir = tempDir(t)
  assertVapError(() => vap.loadDir(join(dir, 'missing')), 'VAP_IO')
  await assertRejects(vap.loadDirAsync(join(dir, 'missing')), 'VAP_IO')
  writeFileSync(join(dir, 'manifest.json'), '{not json')
  assertVapError(() => vap.loadDir(dir), 'VAP_FORMAT')
  assertVapError(() => vap.loadDir(dir, { bogus: 1 }), 'VAP_INVALID_ARGUMENT')
  const { data } = vap.simulate(SMALL)
  assertVapError(() => data.writeDir(join(dir, 'x'), 'xlsx'), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => data.table('nope'), 'VAP_INVALID_ARGUMENT')
})

test('a manifest from a newer vap is refused with VAP_VERSION', (t) => {
  const { data } = vap.simulate(SMALL)
  const dir = tempDir(t)
  data.writeDir(dir, 'csv')
  const mpath = join(dir, 'manifest.json')
  const manifest = JSON.parse(readFileSync(mpath, 'utf8'))
  manifest.vap_format = 99
  writeFileSync(mpath, JSON.stringify(manifest))
  assertVapError(() => vap.loadDir(dir), 'VAP_VERSION')
})

test('a bad table file lists every problem with file, row and field', (t) => {
  const { data } = vap.simulate(SMALL)
  const dir = tempDir(t)
  data.writeDir(dir, 'csv')
  const path = join(dir, 'orders.csv')
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n')
  const cols = lines[0].split(',')
  const amount = cols.indexOf('amount')
  for (const i of [1, 3]) {
    const cells = lines[i].split(',')
    cells[amount] = '-5'
    lines[i] = cells.join(',')
  }
  writeFileSync(path, lines.join('\n') + '\n')
  const e = assertVapError(() => vap.loadDir(dir), 'VAP_VALIDATION')
  const found = e.problems.filter((p) => p.field === 'amount').map((p) => [p.file, p.row])
  assert.deepEqual(found, [['orders.csv', 1], ['orders.csv', 3]])
})

// ---------------------------------------------------------------- hostile directories

import { mkdirSync, copyFileSync, unlinkSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

function simDir(t, name = 'sess') {
  const dir = join(tempDir(t), name)
  vap.simulate({ ...SMALL, hours: 0.1 }).data.writeDir(dir, 'csv')
  return dir
}

function setTable(dir, table, path) {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
  m.tables = { ...(m.tables ?? {}), [table]: path }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m))
}

test('a FIFO as a table is refused without blocking', (t) => {
  const dir = simDir(t)
  unlinkSync(join(dir, 'comments.csv'))
  execFileSync('mkfifo', [join(dir, 'c.fifo')])
  setTable(dir, 'comments', 'c.fifo')
  const e = assertVapError(() => vap.loadDir(dir), 'VAP_VALIDATION')
  assert.match(e.message, /c\.fifo/)
  assert.match(e.message, /not a regular file/)
})

test('table paths outside the directory are refused, naming the manifest field', (t) => {
  const dir = simDir(t)
  const other = join(dir, '..', 'other')
  mkdirSync(other)
  copyFileSync(join(dir, 'orders.csv'), join(other, 'orders.csv'))
  for (const path of ['../other/orders.csv', join(other, 'orders.csv'), '/dev/zero']) {
    setTable(dir, 'orders', path)
    const e = assertVapError(() => vap.loadDir(dir), 'VAP_VALIDATION')
    assert.ok(e.problems.some((p) => p.field === 'tables.orders'), JSON.stringify(e.problems))
  }
})

test('Latin-1 and duplicate columns are refused; an unpaid refund is a load warning', (t) => {
  const dir = simDir(t)
  writeFileSync(join(dir, 'products.csv'), Buffer.from('id,name,price\np01,Crème brûlée,9.9\n', 'latin1'))
  const e = assertVapError(() => vap.loadDir(dir), 'VAP_VALIDATION')
  assert.match(e.message, /Latin-1/)
  assert.match(e.message, /GB18030/)

  const dup = simDir(t, 'dup')
  const lines = readFileSync(join(dup, 'orders.csv'), 'utf8').trimEnd().split('\n')
  writeFileSync(join(dup, 'orders.csv'), [lines[0] + ',amount', ...lines.slice(1).map((l) => l + ',1')].join('\n') + '\n')
  assert.match(assertVapError(() => vap.loadDir(dup), 'VAP_VALIDATION').message, /amount/)

  const refund = simDir(t, 'refund')
  const rows = readFileSync(join(refund, 'orders.csv'), 'utf8').trimEnd().split('\n')
  const cols = rows[0].split(',')
  const first = rows[1].split(',')
  first[cols.indexOf('id')] = 'refund-only'
  first[cols.indexOf('status')] = 'refunded'
  rows[1] = first.join(',')
  writeFileSync(join(refund, 'orders.csv'), rows.join('\n') + '\n')
  const s = vap.loadDir(refund)
  const mine = s.loadReport.warnings.filter((w) => w.message.includes('refund-only'))
  assert.equal(mine.length, 1)
  assert.equal(mine[0].file, 'orders.csv')
  assert.equal(vap.simulate(SMALL).data.loadReport, null)
})

test('a manifest typo is refused with the key meant', (t) => {
  const dir = simDir(t)
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
  m.session.timzone = m.session.timezone
  delete m.session.timezone
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m))
  assert.throws(() => vap.loadDir(dir), (e) => /did you mean `timezone`/.test(e.message))
})

test('a large CSV with quoted line feeds and CRLF loads the same on one and two threads', (t) => {
  // Over 1 MiB, so its rows are read in pieces on two threads; a third of the
  // texts are quoted with commas, doubled quotes and line feeds.
  const dir = simDir(t)
  const t0 = vap.loadDir(dir).session.startMs
  const rows = ['ts_ms,viewer_id,text']
  for (let i = 0; i < 60000; i++) {
    const text = i % 3 === 0 ? `"第${i}条,""好""\n下一行 ok"` : `评论 ${i}`
    rows.push(`${t0 + i * 50},v${i % 977},${text}`)
  }
  writeFileSync(join(dir, 'comments.csv'), rows.join('\r\n') + '\r\n')
  const load = (n) => {
    vap.setNumThreads(n)
    try {
      return vap.loadDir(dir)
    } finally {
      vap.setNumThreads(0)
    }
  }
  const one = load(1)
  const two = load(2)
  assertSameSession(two, one)
  const comments = one.table('comments')
  assert.equal(one.numRows('comments'), 60000)
  assert.equal(comments[0].text, '第0条,"好" 下一行 ok')
  assert.equal(comments[1].text, '评论 1')
})
