// The cross-binding agreement suite, from Node: the calls of
// tests/agreement/calls.json run here and in Python (a child process with the
// project's .venv) must give the same results and error codes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const agreement = join(root, 'tests', 'agreement')
const python = existsSync(join(root, '.venv', 'bin', 'python'))
  ? join(root, '.venv', 'bin', 'python')
  : 'python3'

// Object keys are compared by their letters and digits, ignoring case and
// underscores: Node's results have camelCase field names (`startMs`),
// Python's snake_case ones (`start_ms`), for the same field of the same core
// type (as tests/agreement/compare.py does).
const key = (k) => k.replace(/_/g, '').toLowerCase()

const run = (cmd, script) =>
  JSON.parse(execFileSync(cmd, [join(agreement, script)], { encoding: 'utf8', maxBuffer: 1 << 26 }))

function differences(a, b, path = '') {
  if (typeof a === 'number' && typeof b === 'number') {
    const ok = a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)) + 1e-9
    return ok ? [] : [`${path}: ${a} != ${b}`]
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${path}: ${a.length} items != ${b.length}`]
    return a.flatMap((x, i) => differences(x, b[i], `${path}[${i}]`))
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const na = new Map(Object.entries(a).map(([k, v]) => [key(k), v]))
    const nb = new Map(Object.entries(b).map(([k, v]) => [key(k), v]))
    if (na.size !== Object.keys(a).length || nb.size !== Object.keys(b).length) {
      return [`${path}: keys that differ only in case or underscores`]
    }
    const ka = [...na.keys()].sort()
    const kb = [...nb.keys()].sort()
    if (ka.join() !== kb.join()) return [`${path}: keys differ (${ka} / ${kb})`]
    return ka.flatMap((k) => differences(na.get(k), nb.get(k), `${path}.${k}`))
  }
  return a === b ? [] : [`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`]
}

test('Node and Python agree on every call of the agreement list', () => {
  const spec = JSON.parse(readFileSync(join(agreement, 'calls.json'), 'utf8'))
  const node = run(process.execPath, 'run.cjs')
  const py = run(python, 'run.py')
  const names = spec.calls.map((c) => c.name)
  assert.deepEqual(Object.keys(node).sort(), [...names].sort())
  assert.deepEqual(Object.keys(py).sort(), [...names].sort())
  assert.ok(Object.values(node).filter((v) => 'error' in v).length >= 12)
  assert.ok(Object.values(node).filter((v) => 'ok' in v).length >= 18)
  assert.deepEqual(names.flatMap((n) => differences(node[n], py[n], n)), [])
})

test('the comparison sees a difference', () => {
  assert.deepEqual(differences({ a: [1, 'x'] }, { a: [1 + 1e-12, 'x'] }), [])
  assert.notDeepEqual(differences({ a: [1] }, { a: [1.1] }), [])
  assert.notDeepEqual(differences({ error: 'VAP_IO' }, { error: 'VAP_FORMAT' }), [])
  // a field's name in either binding's case is the same field; another name is not
  assert.deepEqual(differences({ startMs: 1, by_kind: { stock_size: 2 } }, { start_ms: 1, byKind: { stock_size: 2 } }), [])
  assert.notDeepEqual(differences({ startMs: 1 }, { endMs: 1 }), [])
})
