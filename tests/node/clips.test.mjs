// Clips from Node: `clip` on a recording made at test time (an ffmpeg test
// pattern with espeak-ng speech, tests/media/make_media.py), checked with
// ffprobe and vap's own index and stills; `Replay.clips` on a stored session
// with a registered recording, its manifest and its errors.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { vap, tempDir, assertVapError } from './helpers.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FRAME_MS = 40 // 25 fps
const AAC_MS = 24
let src

function ffprobeMs(path) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', path])
  return Number(out.toString().trim()) * 1000
}

before(() => {
  const dir = mkdtempSync(join(tmpdir(), 'vap-clips-'))
  src = join(dir, 'src.mp4')
  const spec = join(dir, 'src.json')
  writeFileSync(spec, JSON.stringify({
    out: src, duration: 20, gop: 50, size: '96x64',
    parts: [{ at: 1, text: 'three hundred units in forty seconds' }],
  }))
  execFileSync('python3', [join(ROOT, 'tests/media/make_media.py'), spec])
})

test('a remux starts on the keyframe before, an exact cut on the frame', (t) => {
  const dir = tempDir(t)
  const c = vap.clip(src, 5300, 9000, join(dir, 'remux.mp4'))
  assert.equal(c.exact, false)
  assert.deepEqual(c.requestedMs, [5300, 9000])
  assert.equal(c.startMs, vap.videoIndex(src).keyframeBefore(5300))
  assert.ok(Math.abs(c.startMs - 4000) < 0.5, JSON.stringify(c))
  assert.ok(Math.abs(c.endMs - 9000) <= FRAME_MS, JSON.stringify(c))
  assert.ok(Math.abs(ffprobeMs(c.path) - (c.endMs - c.startMs)) <= FRAME_MS + AAC_MS)
  // Copied: the first frame is the source's keyframe, pixel for pixel.
  assert.deepEqual(vap.stillFrame(c.path, 0).rgb, vap.stillFrame(src, 4000).rgb)

  const e = vap.clip(src, 5300, 9000, join(dir, 'exact.mp4'), { exact: true })
  assert.equal(e.exact, true)
  assert.ok(e.startMs <= 5300 && e.startMs > 5300 - FRAME_MS, JSON.stringify(e))
  assert.ok(Math.abs(ffprobeMs(e.path) - 3700) <= FRAME_MS + AAC_MS)
})

test('clip errors are typed and leave nothing behind', (t) => {
  const dir = tempDir(t)
  assertVapError(() => vap.clip(src, 9000, 5000, join(dir, 'a.mp4')), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.clip(src, 60000, 70000, join(dir, 'b.mp4')), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.clip(join(dir, 'none.mp4'), 0, 1000, join(dir, 'c.mp4')), 'VAP_IO')
  assertVapError(() => vap.clip(src, 0, 1000, join(dir, 'd.mp4'), { exactly: true }), 'VAP_INVALID_ARGUMENT')
  assert.deepEqual(readdirSync(dir), [])
})

test('the top moments of a stored session, with a manifest', (t) => {
  const dir = tempDir(t)
  const quick = { model: { bootstrap: 10, seed: 1 } }
  const room = vap.simulate({ seed: 5, hours: 1 })
  const first = room.data.replay(quick)
  const s = first.toJSON()
  assertVapError(() => first.clips(join(dir, 'none')), 'VAP_NOT_FOUND')
  const top = s.moments[0]
  const store = new vap.Store(join(dir, 'store'))
  store.importSession(room.data)
  store.registerRecording(s.roomId, s.sessionId, src, { offsetMs: top.startMs - 8000 })
  const rep = store.replay(s.roomId, s.sessionId, quick)
  assert.ok(rep.toJSON().mediaDir.length > 0)
  const out = join(dir, 'clips')
  const got = rep.clips(out, { top: 1, before: '3s', after: '2s', maxLength: '6s' })
  assert.equal(got.length, 1)
  const e = got[0]
  assert.deepEqual([e.rank, e.momentStartMs, e.metric], [top.rank, top.startMs, top.metric])
  assert.ok(Math.abs(e.startMs - 4000) < 0.5, JSON.stringify(e))
  assert.ok(Math.abs(e.endMs - 11000) <= FRAME_MS, JSON.stringify(e))
  assert.equal(e.sessionStartMs, top.startMs - 4000)
  assert.ok(Math.abs(ffprobeMs(join(out, e.file)) - (e.endMs - e.startMs)) <= FRAME_MS + AAC_MS)
  // clips.json is a file: the core's canonical snake_case names
  const camel = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase()), v]))
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'clips.json'), 'utf8')).map(camel), got)
  assertVapError(() => rep.clips(out, { top: 0, before: -1 }), 'VAP_INVALID_ARGUMENT')
  assert.equal(vap.optionDefaults('clips').beforeMs, 10000)
})
