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
