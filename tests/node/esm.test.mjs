import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import vapDefault, * as esm from '../../index.mjs'

const cjs = createRequire(import.meta.url)('../../index.js')

test('the ESM entry point exports every CommonJS export by name', () => {
  const names = Object.keys(cjs).sort()
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), names)
  for (const k of names) assert.equal(esm[k], cjs[k], k)
  assert.equal(vapDefault, cjs)
})

test('the package resolves by name for import and require', async () => {
  const self = await import('vap')
  assert.equal(self.Store, cjs.Store)
  assert.equal(createRequire(import.meta.url)('vap').simulate, cjs.simulate)
})
