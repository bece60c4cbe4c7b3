// The package's `bin` (`npx vap`): the core's command line end to end from
// Node, with its exit codes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { vap, tempDir } from './helpers.mjs'

const BIN = fileURLToPath(new URL('../../bin/vap.js', import.meta.url))
const run = (args, cwd) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' })

test('the bin is the package\'s, at its version', () => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'))
  assert.equal(pkg.bin.vap, 'bin/vap.js')
  const r = run(['--version'])
  assert.equal(r.status, 0)
  assert.equal(r.stdout.trim(), `vap ${vap.version()}`)
})

test('import, sessions, replay with its report, exit codes', (t) => {
  const dir = tempDir(t)
  const room = vap.simulate({ seed: 90, hours: 1, sessionId: 's0' })
  room.data.writeDir(join(dir, 'dir0'))
  let r = run(['import', 'dir0', '--store', 'st'], dir)
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /imported sim-room\/s0/)
  r = run(['import', 'dir0', '--store', 'st'], dir)
  assert.equal(r.status, 6, r.stderr)
  r = run(['sessions', 'st', '--json'], dir)
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l).session_id), ['s0'])
  r = run(['replay', 'st', 'sim-room', 's0', '--html', 's0.html', '--json', 's0.json', '--bootstrap', '10'], dir)
  assert.equal(r.status, 0, r.stderr)
  const rep = JSON.parse(readFileSync(join(dir, 's0.json'), 'utf8'))
  for (const m of rep.moments) assert.ok(r.stdout.includes(`#${m.rank} `), r.stdout)
  assert.ok(readFileSync(join(dir, 's0.html'), 'utf8').includes('直播复盘'))
  assert.equal(run(['replay', 'nostore', 'r', 's'], dir).status, 3)
  assert.equal(run(['replay', 'st'], dir).status, 2)
  assert.equal(run(['import', 'missing', '--store', 'st'], dir).status, 3)
  assert.equal(vap.cli(['help', 'room']), 0)
})
