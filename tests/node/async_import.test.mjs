import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { vap, SMALL } from './helpers.mjs'

test('importSessionAsync and importDirAsync resolve, and reject with codes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'vap-async-'))
  const store = new vap.Store(join(root, 'store'))
  const { data } = vap.simulate({ ...SMALL, sessionId: 'a' })
  await store.importSessionAsync(data)
  assert.deepEqual(store.load(data.room.id, 'a').table('orders'), data.table('orders'))
  await assert.rejects(store.importSessionAsync(data), (e) => e.code === 'VAP_ALREADY_EXISTS')
  await store.importSessionAsync(data, { replace: true })

  const dir = join(root, 'dir')
  vap.simulate({ ...SMALL, sessionId: 'b' }).data.writeDir(dir, 'jsonl')
  const s = await store.importDirAsync(dir)
  assert.equal(s.session.id, 'b')
  assert.deepEqual(store.sessions().map((x) => x.sessionId).sort(), ['a', 'b'])
  await assert.rejects(store.importDirAsync(join(root, 'missing')), (e) => e.code === 'VAP_IO')
  await assert.rejects(store.importSessionAsync({}), (e) => e.code === 'VAP_INVALID_ARGUMENT')
})
