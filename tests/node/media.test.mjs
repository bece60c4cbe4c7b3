// Recordings end to end on real files made at test time (tests/media/make_media.py:
// espeak-ng speech placed at known times, muxed with an ffmpeg test pattern),
// transcribed with a real Whisper model (`make models`).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { vap, tempDir, assertVapError, assertRejects } from './helpers.mjs'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MODEL_DIR = process.env.VAP_MODEL_DIR ?? join(ROOT, 'models')
const START = 1_700_000_000_000
/** The shop recording starts this long after the session (its true offset). */
const TRUE_OFFSET_MS = 20_000
/** Session-clock seconds of each explain segment; the product is named 2 s and 10 s into it. */
const SHOP = [['perfume', 30], ['cream', 55], ['shampoo', 80], ['lipstick', 105], ['sunscreen', 130], ['perfume', 150]]
const SAY = {
  perfume: 'This perfume smells fresh.',
  cream: 'The face cream is on sale now.',
  shampoo: 'Try the shampoo today.',
  lipstick: 'Look at this red lipstick.',
  sunscreen: 'This sunscreen protects your skin.',
}
const PRODUCTS = ['perfume', 'cream', 'shampoo', 'lipstick', 'sunscreen']

let dir
/** Fixture paths and placed speech times ({ at, end } in seconds). */
const f = {}

function model(name) {
  const p = join(MODEL_DIR, name)
  if (!existsSync(p)) {
    throw new Error(`${p} is missing: run \`make models\` (scripts/whisper-model.py) first`)
  }
  return p
}

/** Makes one recording with make_media.py; returns [path, placed parts]. */
function make(name, spec) {
  const out = join(dir, name)
  const specPath = join(dir, `${name}.json`)
  writeFileSync(specPath, JSON.stringify({ ...spec, out }))
  const stdout = execFileSync('python3', [join(ROOT, 'tests/media/make_media.py'), specPath], { encoding: 'utf8' })
  return [out, JSON.parse(stdout).parts]
}

before(() => {
  model('ggml-tiny.en.bin')
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'vap-media-')))
  // 30 s: English at 2, 6 and 11 s (the last across the 12 s chunk join), a tone at 20–28 s.
  ;[f.short, f.shortParts] = make('short.mp4', {
    duration: 30,
    tone: [[20, 28]],
    parts: [
      { at: 2, text: 'Welcome to the live room.' },
      { at: 6, text: 'Try the shampoo today.' },
      { at: 11, text: 'The face cream is on sale now.' },
    ],
  })
  const shopParts = SHOP.flatMap(([p, s]) => [2, 10].map((d) => ({ at: s + d - TRUE_OFFSET_MS / 1000, text: SAY[p] })))
  ;[f.shop] = make('shop.mp4', { duration: 150, parts: shopParts })
  ;[f.videoOnly] = make('video_only.mp4', { duration: 5, audio: false })
  ;[f.audioOnly] = make('audio_only.m4a', { duration: 5, video: false, parts: [{ at: 1, text: 'hello' }] })
  f.corrupt = join(dir, 'corrupt.mp4')
  const junk = Buffer.alloc(50_000)
  for (let i = 0; i < junk.length; i++) junk[i] = (Math.imul(i, 2_654_435_761) >>> 13) & 0xff
  writeFileSync(f.corrupt, Buffer.concat([Buffer.from('\0\0\0\x20ftypisom', 'latin1'), junk]))
  f.truncated = join(dir, 'truncated.mp4')
  const bytes = readFileSync(f.short)
  writeFileSync(f.truncated, bytes.subarray(0, Math.floor(bytes.length / 3)))
})

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** Options of the English model: 2 threads (the CI machines have 2 cores). */
function en(extra = {}) {
  return { model: model('ggml-tiny.en.bin'), language: 'en', threads: 2, ...extra }
}

function textOf(utterances) {
  return utterances.map((u) => u.text.toLowerCase()).join(' ')
}

/** The shop session: five products, two anchors, six explain segments (cf. vap-core/tests/media.rs). */
function shopSession(start = START) {
  const manifest = {
    vap_format: 1,
    room: { id: 'media-room', name: 'Media room' },
    session: { id: 's1', start_ms: start, end_ms: start + 200_000, timezone: 'UTC' },
  }
  const names = { perfume: 'fresh perfume', cream: 'face cream', shampoo: 'herbal shampoo', lipstick: 'red lipstick', sunscreen: 'daily sunscreen' }
  return vap.fromTables(manifest, {
    products: PRODUCTS.map((id) => ({ id, name: names[id], price: 99, category: 'beauty', aliases: [id] })),
    anchors: [{ id: 'amy', name: 'Amy' }, { id: 'bo', name: 'Bo' }],
    shifts: [
      { anchor_id: 'amy', role: 'host', start_ms: start, end_ms: start + 100_000 },
      { anchor_id: 'bo', role: 'host', start_ms: start + 100_000, end_ms: start + 200_000 },
      { anchor_id: 'bo', role: 'field_control', start_ms: start, end_ms: start + 100_000 },
    ],
    segments: SHOP.map(([p, s]) => ({ product_id: p, kind: 'explain', start_ms: start + s * 1000, end_ms: start + s * 1000 + 15_000 })),
  })
}

/** A store holding the shop session; returns [store, its root]. */
function shopStore(t) {
  const root = join(tempDir(t, 'vap-media-store-'), 'store')
  const store = new vap.Store(root)
  store.importSession(shopSession())
  return [store, root]
}

/** Checkpoints of a stored session's transcription (finished files only). */
function checkpoints(root) {
  const d = join(root, 'rooms', 'media-room', 'sessions', 's1', 'work', 'asr')
  if (!existsSync(d)) return []
  return readdirSync(d).filter((n) => n.endsWith('.json') && !n.startsWith('.'))
}

function ffmpeg(args, maxBuffer = 64 << 20) {
  return execFileSync('ffmpeg', ['-v', 'error', ...args], { maxBuffer })
}

function f32(buf) {
  return new Float32Array(new Uint8Array(buf).buffer)
}

test('probe reports duration and streams', () => {
  const info = vap.probe(f.short)
  assert.ok(Math.abs(info.durationMs - 30_000) <= 100, `duration ${info.durationMs}`)
  assert.equal(info.path, f.short)
  assert.ok(info.sizeBytes > 0)
  const a = info.streams.find((s) => s.kind === 'audio')
  assert.equal(a.codec, 'aac')
  assert.equal(a.sampleRate, 22_050)
  assert.equal(a.channels, 1)
  const v = info.streams.find((s) => s.kind === 'video')
  assert.deepEqual([v.width, v.height], [160, 120])
  assert.ok(Math.abs(v.frameRate - 25) < 1e-6)
  assert.deepEqual(vap.probe(f.videoOnly).streams.map((s) => s.kind), ['video'])
})

test('decodeAudio: 16 kHz mono like the ffmpeg CLI, and a seek window equals the slice', () => {
  const x = vap.decodeAudio(f.short)
  assert.ok(x instanceof Float32Array)
  assert.ok(Math.abs(x.length - 30 * 16_000) <= 1_600, `${x.length} samples`)
  const y = f32(ffmpeg(['-i', f.short, '-vn', '-ac', '1', '-ar', '16000', '-f', 'f32le', '-']))
  assert.ok(Math.abs(x.length - y.length) <= 1_600, `${x.length} vs ${y.length}`)
  let xy = 0
  let xx = 0
  let yy = 0
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    xy += x[i] * y[i]
    xx += x[i] * x[i]
    yy += y[i] * y[i]
  }
  const r = xy / Math.sqrt(xx * yy)
  assert.ok(r > 0.99, `correlation with ffmpeg's output ${r}`)

  const w = vap.decodeAudio(f.short, { startMs: 4_000, endMs: 6_000 })
  assert.equal(w.length, 32_000)
  const part = x.subarray(64_000, 96_000)
  let err = 0
  for (let i = 0; i < w.length; i++) err = Math.max(err, Math.abs(w[i] - part[i]))
  assert.ok(err < 0.02, `max abs difference ${err}`)
  // Speech is loud where it was placed, quiet just before.
  for (const p of f.shortParts) {
    const rms = (a, b) => {
      let s = 0
      for (let i = a; i < b; i++) s += x[i] * x[i]
      return Math.sqrt(s / (b - a))
    }
    const i = Math.round(p.at * 16_000)
    assert.ok(rms(i, i + 8_000) > 10 * rms(i - 8_000, i - 800), `speech at ${p.at}`)
  }
  assertVapError(() => vap.decodeAudio(f.short, { startMs: 5, endMs: 1 }), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.decodeAudio(f.short, { start: 5 }), 'VAP_INVALID_ARGUMENT')
})

/** Every sample of the chunks, in order. */
function joined(chunks) {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.samples.length, 0))
  let at = 0
  for (const c of chunks) {
    out.set(c.samples, at)
    at += c.samples.length
  }
  return out
}

test('audioChunks: fixed-length chunks that concatenate to decodeAudio (the core chunks, as in Python)', () => {
  const whole = vap.decodeAudio(f.short)
  const it = vap.audioChunks(f.short, { chunkMs: 7_000 })
  assert.ok(it instanceof vap.AudioChunks)
  assert.equal(it.chunkMs, 7_000)
  assert.equal(it[Symbol.iterator](), it, 'an iterator is its own iterable')
  const chunks = [...it]
  assert.deepEqual(chunks.map((c) => c.startMs), [0, 7_000, 14_000, 21_000, 28_000])
  assert.ok(chunks.slice(0, -1).every((c) => c.samples instanceof Float32Array && c.samples.length === 7 * 16_000))
  assert.deepEqual(joined(chunks), whole)
  const end = it.next()
  assert.equal(end.done, true, 'ended')
  assert.equal(end.value, undefined)

  // A window whose length the chunk does not divide: the last one is cut at the end.
  const w = [...vap.audioChunks(f.short, { chunkMs: 1_500, startMs: 3_000, endMs: 8_000 })]
  assert.deepEqual(w.map((c) => c.startMs), [3_000, 4_500, 6_000, 7_500])
  assert.deepEqual(joined(w), vap.decodeAudio(f.short, { startMs: 3_000, endMs: 8_000 }))

  // The default chunk is the core's 30 s; next() by hand; break closes the decoder.
  const d = vap.audioChunks(f.short)
  assert.equal(d.chunkMs, 30_000)
  const first = d.next()
  assert.equal(first.done, false)
  assert.equal(first.value.startMs, 0)
  assert.equal(first.value.samples.length, Math.min(whole.length, 30 * 16_000))
  const e = vap.audioChunks(f.short, { chunkMs: 1_000 })
  for (const c of e) {
    assert.equal(c.startMs, 0)
    break
  }
  assert.equal(e.next().done, true, 'closed by break (return())')
  const c = vap.audioChunks(f.short, { chunkMs: 1_000 })
  c.close()
  assert.equal(c.next().done, true)

  // Options are checked before anything is read.
  for (const o of [{ chunkMs: 0 }, { chunkMs: -5 }, { startMs: 5, endMs: 1 }, { chunk_ms: 5 }, { chunkMs: '1s' }]) {
    assertVapError(() => vap.audioChunks(f.short, o), 'VAP_INVALID_ARGUMENT')
  }
  assertVapError(() => vap.audioChunks(f.videoOnly), 'VAP_FORMAT')
  assertVapError(() => vap.audioChunks(join(dir, 'nope.mp4')), 'VAP_IO')
})

test('transcribe: the q8_0 model (scripts/whisper-model.py --quant q8_0) hears the same words at their times', async () => {
  const t = await vap.transcribe(f.short, en({ model: model('ggml-tiny.en-q8_0.bin'), chunkMs: 12_000, overlapMs: 2_000 }))
  const text = textOf(t.utterances)
  for (const w of ['welcome', 'shampoo', 'face cream', 'sale']) {
    assert.ok(text.includes(w), `'${w}' not in ${JSON.stringify(text)}`)
  }
  assert.equal(t.utterances.length, 3, JSON.stringify(t.utterances))
  f.shortParts.forEach((p, i) => {
    assert.ok(Math.abs(t.utterances[i].startMs / 1000 - p.at) < 1.5, `${JSON.stringify(t.utterances[i])} vs ${p.at}`)
  })
})

test('transcribe: the same utterances on one lane and one thread as on two lanes and two threads', async () => {
  // The short file's 30 s chunk has four voiced windows for the lanes to share.
  const run = async (o) => {
    const t = await vap.transcribe(f.short, en({ chunkMs: 30_000, overlapMs: 2_000, ...o }))
    return t.utterances.map((u) => [u.startMs, u.endMs, u.text])
  }
  const one = await run({ threads: 1, lanes: 1 })
  assert.equal(one.length, 3, JSON.stringify(one))
  assert.deepEqual(await run({ threads: 2 }), one)
  assert.deepEqual(await run({ threads: 2, lanes: 5 }), one)
  const text = (await run({ threads: 2, temperatureFallback: true })).map((u) => u[2].toLowerCase()).join(' ')
  for (const w of ['welcome', 'shampoo', 'face cream', 'sale']) {
    assert.ok(text.includes(w), `'${w}' not in ${JSON.stringify(text)}`)
  }
})

test('transcribe: keywords at the placed times, progress once per chunk, off the JS thread', async () => {
  const calls = []
  let ticks = 0
  const timer = setInterval(() => ticks++, 20)
  let t
  try {
    t = await vap.transcribe(f.short, en({ offsetMs: 1_000_000, chunkMs: 12_000, overlapMs: 2_000 }), (p) => {
      calls.push(p)
    })
  } finally {
    clearInterval(timer)
  }
  const text = textOf(t.utterances)
  for (const w of ['welcome', 'live room', 'shampoo', 'face cream', 'sale']) {
    assert.ok(text.includes(w), `'${w}' not in ${JSON.stringify(text)}`)
  }
  assert.equal(t.stats.chunks, 3, '30 s in 12 s chunks: 12 + 12 + 6')
  assert.equal(calls.length, t.stats.chunks, 'onProgress once per chunk, all before the Promise settles')
  assert.deepEqual(calls.map((p) => p.done), [1, 2, 3])
  assert.ok(calls.every((p) => p.total === 3 && p.recording === 0 && !p.resumed))
  assert.deepEqual(calls.map((p) => p.positionMs), [0, 12_000, 24_000])
  assert.equal(calls.at(-1).audioDoneMs, calls.at(-1).audioTotalMs)
  assert.ok(ticks > 10, `the event loop ran during the transcription (${ticks} ticks)`)
  for (const [p, needle] of f.shortParts.map((p, i) => [p, ['welcome', 'shampoo', 'cream'][i]])) {
    const u = t.utterances.find((u) => u.text.toLowerCase().includes(needle))
    const s = (u.startMs - 1_000_000) / 1000
    assert.ok(Math.abs(s - p.at) < 1.5, `${needle}: ${s} vs ${p.at}`)
    assert.ok(u.endMs > u.startMs)
    assert.ok(u.confidence > 0.2)
    assert.equal(u.speaker, undefined)
  }
  // Nothing in the tone or the silences, no duplicate across the 12 s join.
  assert.equal(t.utterances.length, 3, JSON.stringify(t.utterances))
  assert.deepEqual(t.languages, ['en'])
  assert.equal(t.stats.chunksTranscribed, 3)
  assert.equal(t.stats.chunksResumed, 0)
  assert.ok(t.stats.realTimeFactor > 0)
  assert.ok(Math.abs(t.stats.realTimeFactor - (t.stats.decodeSeconds + t.stats.modelSeconds) / (t.stats.transcribedMs / 1000)) < 1e-9)
})

// One store flow (each whisper window costs seconds, so the transcript is made
// once): register at the session start (20 s early), a transcription killed
// with SIGKILL in a child process, resumed in this one, then the planted
// offset recovered from the transcript and applied.
test('store: register, a SIGKILLed transcription resumes, the planted offset is recovered and applied', async (t) => {
  const [store, root] = shopStore(t)
  // Registered at the session's start (the default offset): 20 s early.
  const r = store.registerRecording('media-room', 's1', f.shop)
  assert.equal(r.offsetMs, START)
  assert.ok(Math.abs(r.durationMs - 150_000) < 100)
  assert.equal(r.sha256.length, 64)
  assert.equal(r.path, f.shop)
  assertVapError(() => store.registerRecording('media-room', 's1', f.shop, { offsetMs: 5 }), 'VAP_ALREADY_EXISTS')
  assert.deepEqual(store.load('media-room', 's1').session.recordings, [r])

  // A child process transcribes; kill it (no unwinding, no cleanup) once two
  // chunks are checkpointed.
  const opts = en({ chunkMs: 20_000, overlapMs: 2_000 })
  const script = `
    const vap = require(process.env.VAP_INDEX)
    vap.setWhisperLog('stderr', 'info')
    new vap.Store(process.env.VAP_STORE)
      .transcribe('media-room', 's1', JSON.parse(process.env.VAP_OPTS))
      .then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })`
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, VAP_INDEX: join(ROOT, 'index.js'), VAP_STORE: root, VAP_OPTS: JSON.stringify(opts) },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const t0 = Date.now()
  while (checkpoints(root).length < 2) {
    assert.equal(child.exitCode, null, `the child finished before it could be killed: ${stderr}`)
    assert.ok(Date.now() - t0 < 300_000, 'no checkpoint after 5 min')
    await new Promise((r) => setTimeout(r, 20))
  }
  child.kill('SIGKILL')
  await exited
  const saved = checkpoints(root).length
  assert.ok(saved >= 2 && saved < 8, `${saved} checkpoints`)
  // setWhisperLog('stderr') in the child sent whisper.cpp's own lines there.
  assert.match(stderr, /^whisper: /m)
  // The session itself is untouched until the end.
  assert.equal(store.load('media-room', 's1').numRows('utterances'), 0)

  // The rerun decodes and transcribes only the chunks left.
  const calls = []
  const tr = await store.transcribe('media-room', 's1', opts, (p) => calls.push(p))
  assert.equal(tr.stats.chunks, 8, '150 s in 20 s chunks: 7 × 20 + 10')
  assert.equal(tr.stats.chunksResumed, saved)
  assert.equal(tr.stats.chunksTranscribed, 8 - saved)
  assert.deepEqual(calls.map((p) => p.done), [1, 2, 3, 4, 5, 6, 7, 8])
  assert.equal(calls.filter((p) => p.resumed).length, saved)
  const left = 150_000 - saved * 20_000
  assert.ok(tr.stats.decodedMs >= left && tr.stats.decodedMs <= left + 2_100, `decoded ${tr.stats.decodedMs} for ${left}`)
  assert.deepEqual(checkpoints(root), [], 'checkpoints are dropped with the commit')

  const text = textOf(tr.utterances)
  for (const w of PRODUCTS) assert.ok(text.includes(w), `'${w}' not in ${JSON.stringify(text)}`)
  const stored = store.load('media-room', 's1')
  assert.deepEqual(
    stored.table('utterances').map((u) => [u.start_ms, u.end_ms, u.text, u.speaker]),
    tr.utterances.map((u) => [u.startMs, u.endMs, u.text, u.speaker]),
  )
  assert.equal(store.sessions('media-room')[0].rows.utterances, tr.utterances.length)
  // Speakers from the shifts (host wins over field control).
  assert.ok(tr.utterances.every((u) => typeof u.speaker === 'string'))
  assert.equal(tr.utterances[0].speaker, 'amy')

  // A 200 s session: search ±30 s in 2 s bins. The transcript runs 20 s early.
  const est = store.estimateRecordingOffset('media-room', 's1', 0, { maxLag: 30_000, step: 2_000 })
  assert.equal(est.status, 'determined', est.reason)
  assert.ok(Math.abs(est.offsetMs + TRUE_OFFSET_MS) < 3_000, `estimate ${est.offsetMs} ms`)
  assert.deepEqual(store.estimateRecordingOffset('media-room', 's1', undefined, { maxLag: '30s', step: '2s' }), est)
  assertVapError(() => store.estimateRecordingOffset('media-room', 's1', 3), 'VAP_NOT_FOUND')

  const fixed = START - Math.round(est.offsetMs)
  const moved = store.setRecordingOffset('media-room', 's1', 0, fixed)
  assert.ok(moved instanceof vap.Session)
  const delta = fixed - START
  assert.equal(moved.session.recordings[0].offsetMs, fixed)
  const before = stored.table('utterances')
  const now = moved.table('utterances')
  assert.equal(now.length, before.length)
  now.forEach((u, i) => assert.equal(u.start_ms, before[i].start_ms + delta))
  assert.deepEqual(store.load('media-room', 's1').table('utterances'), now)
  // Now on the platform clock: the first perfume mention inside its explain segment.
  const perfume = now.find((u) => u.text.toLowerCase().includes('perfume'))
  const seg = moved.table('segments')[0]
  assert.ok(perfume.start_ms >= seg.start_ms - 1_500 && perfume.start_ms < seg.end_ms, JSON.stringify(perfume))
  // A moment's video position uses the corrected offset.
  assert.deepEqual(moved.locate(perfume.start_ms), { recording: 0, path: f.shop, positionMs: perfume.start_ms - fixed })
  assert.equal(moved.locate(fixed - 1), null)
  const still = store.still('media-room', 's1', perfume.start_ms, { maxWidth: 80, png: true })
  assert.deepEqual([still.width, still.height, still.recording, still.positionMs], [80, 60, 0, perfume.start_ms - fixed])
  assert.ok(still.png.subarray(1, 4).equals(Buffer.from('PNG')))
  const direct = vap.stillFrame(f.shop, perfume.start_ms - fixed, { maxWidth: 80 })
  assert.ok(still.rgb.equals(direct.rgb), 'the same frame as stillFrame')
  assert.equal(store.still('media-room', 's1', perfume.start_ms).png, undefined, 'no PNG unless asked')
  assertVapError(() => store.still('media-room', 's1', fixed - 1), 'VAP_NOT_FOUND')
  assertVapError(() => store.setRecordingOffset('media-room', 's1', 1, fixed), 'VAP_NOT_FOUND')
})

test('a stop (onProgress returning false, or options.signal) keeps the checkpoints; a rerun resumes', async (t) => {
  const root = join(tempDir(t, 'vap-media-store-'), 'store')
  const store = new vap.Store(root)
  store.importSession(shopSession())
  store.registerRecording('media-room', 's1', f.short)
  const opts = en({ chunkMs: 10_000, overlapMs: 1_000 })
  // Synchronous: the callback's `false` stops after the first chunk.
  let e = assertVapError(
    () => store.transcribeSync('media-room', 's1', opts, (p) => p.done < 1),
    'VAP_INVALID_ARGUMENT',
  )
  assert.match(e.message, /1 of 3 chunks are checkpointed/)
  assert.equal(checkpoints(root).length, 1)
  // Asynchronous: an AbortController aborted from the callback stops after the second.
  const ac = new AbortController()
  const calls = []
  e = await assertRejects(
    store.transcribe('media-room', 's1', { ...opts, signal: ac.signal }, (p) => {
      calls.push(p)
      if (p.done === 2) ac.abort()
    }),
    'VAP_INVALID_ARGUMENT',
  )
  assert.match(e.message, /2 of 3 chunks are checkpointed/)
  assert.deepEqual(calls.map((p) => [p.done, p.resumed]), [[1, true], [2, false]])
  assert.equal(checkpoints(root).length, 2)
  // An aborted signal is refused before anything runs.
  await assertRejects(store.transcribe('media-room', 's1', { ...opts, signal: AbortSignal.abort() }), 'VAP_INVALID_ARGUMENT')
  // A callback that throws stops the run; its own exception is what rejects.
  const boom = new Error('boom from onProgress')
  await assert.rejects(store.transcribe('media-room', 's1', opts, () => {
    throw boom
  }), (err) => err === boom)
  assert.throws(() => store.transcribeSync('media-room', 's1', opts, () => {
    throw boom
  }), (err) => err === boom)
  assert.equal(checkpoints(root).length, 2)
  assert.equal(store.load('media-room', 's1').numRows('utterances'), 0)
})

test('bad files, models and options give clean errors (rejected Promises, never a crash)', async (t) => {
  const missing = join(dir, 'nope.mp4')
  let e = assertVapError(() => vap.probe(missing), 'VAP_IO')
  assert.match(e.message, /nope\.mp4/)
  e = assertVapError(() => vap.decodeAudio(f.videoOnly), 'VAP_FORMAT')
  assert.match(e.message, /no audio/)
  e = await assertRejects(vap.transcribe(f.videoOnly, en()), 'VAP_FORMAT')
  assert.match(e.message, /has no audio/)
  e = assertVapError(() => vap.probe(f.corrupt), 'VAP_FORMAT')
  assert.match(e.message, /corrupt\.mp4/)
  assertVapError(() => vap.decodeAudio(f.truncated), 'VAP_FORMAT')
  await assertRejects(vap.transcribe(f.corrupt, en()), 'VAP_FORMAT')
  e = assertVapError(() => vap.videoIndex(f.audioOnly), 'VAP_FORMAT')
  assert.match(e.message, /no video/)
  assertVapError(() => vap.stillFrame(f.audioOnly, 0), 'VAP_FORMAT')
  assertVapError(() => vap.stillFrame(f.short, -5), 'VAP_INVALID_ARGUMENT')

  // Models: missing, junk, a real one cut short, English-only asked for Chinese.
  await assertRejects(vap.transcribe(f.short, en({ model: join(dir, 'no-model.bin') })), 'VAP_IO')
  const junk = join(dir, 'junk-model.bin')
  writeFileSync(junk, Buffer.alloc(4096, 7))
  e = await assertRejects(vap.transcribe(f.short, en({ model: junk })), 'VAP_FORMAT')
  assert.match(e.message, /ggml/)
  const cut = join(dir, 'cut-model.bin')
  const bytes = readFileSync(model('ggml-tiny.en.bin'))
  writeFileSync(cut, bytes.subarray(0, bytes.length >> 1))
  await assertRejects(vap.transcribe(f.short, en({ model: cut })), 'VAP_FORMAT')
  assertVapError(() => vap.transcribeSync(f.short, en({ model: cut })), 'VAP_FORMAT')
  e = await assertRejects(vap.transcribe(f.short, en({ language: 'zh' })), 'VAP_INVALID_ARGUMENT')
  assert.match(e.message, /English-only/)

  // Options: all checked before any work; the async variants reject, never throw.
  const bad = [
    [{ language: 'en' }, /'model'.*required/],
    [{ ...en(), chnk: 1, offsetMs: '5s' }, /'offsetMs' must be an integer.*'chnk'/],
    [{ ...en(), chunkMs: 'soon' }, /option 'chunkMs': cannot read "soon" as a duration/],
    [{ ...en(), language: 'klingon', threads: -1 }, /'language'.*klingon.*'threads'/],
    [{ ...en(), signal: {} }, /AbortSignal/],
    ['tiny', /must be an object/],
  ]
  for (const [o, re] of bad) {
    e = await assertRejects(vap.transcribe(f.short, o), 'VAP_INVALID_ARGUMENT')
    assert.match(e.message, re)
  }
  e = await assertRejects(vap.transcribe(f.short, en({ chunkMs: 1_000, beamSize: 0, lanes: 17 })), 'VAP_VALIDATION')
  assert.deepEqual(e.problems.map((p) => p.field).sort(), ['beam_size', 'chunk_ms', 'lanes', 'overlap_ms'])
  await assertRejects(vap.transcribe(f.short, en(), 'not a function'), 'VAP_INVALID_ARGUMENT')
  await assertRejects(vap.transcribe(42, en()), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.setWhisperLog('loud'), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.setWhisperLog('stderr', 'verbose'), 'VAP_INVALID_ARGUMENT')
  vap.setWhisperLog('silent')

  // The store: no recordings yet, a missing file, bad arguments.
  const [store] = shopStore(t)
  e = await assertRejects(store.transcribe('media-room', 's1', en()), 'VAP_INVALID_ARGUMENT')
  assert.match(e.message, /no recordings/)
  assertVapError(() => store.registerRecording('media-room', 's1', missing), 'VAP_IO')
  assertVapError(() => store.registerRecording('media-room', 's1', f.short, { offset: 1 }), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => store.registerRecording('media-room', 'nope', f.short), 'VAP_NOT_FOUND')
  assert.deepEqual(store.load('media-room', 's1').session.recordings ?? [], [])
  await assertRejects(store.transcribe('media-room', 's1', en({ offsetMs: 5 })), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => store.setRecordingOffset('media-room', 's1', 0, 1.5), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => store.still('media-room', 's1', '0'), 'VAP_INVALID_ARGUMENT')
  // Still working after all of the above.
  assert.equal(vap.probe(f.short).streams.length, 2)
})

test('videoIndex maps instants to frames; stills match ffmpeg pixel for pixel', async (t) => {
  const idx = vap.videoIndex(f.short)
  assert.ok(idx instanceof vap.VideoIndex)
  assert.ok(idx.framesMs instanceof Float64Array)
  assert.equal(idx.framesMs.length, 750, '30 s at 25 fps')
  assert.equal(idx.keyframesMs.length, 30, 'a keyframe a second (-g 25)')
  assert.deepEqual([idx.width, idx.height], [160, 120])
  assert.equal(idx.path, f.short)
  assert.equal(idx.frameAt(1_019), 1_000)
  assert.equal(idx.frameAt(1_041), 1_040)
  assert.equal(idx.keyframeBefore(2_500), 2_000)
  assert.equal(idx.frameAt(-1), null)
  assert.equal(idx.keyframeBefore(-1), null)
  assert.ok(Math.abs(idx.endMs - 29_960) < 1e-6)
  assertVapError(() => idx.frameAt('1s'), 'VAP_INVALID_ARGUMENT')

  const d = tempDir(t, 'vap-stills-')
  for (const at of [0, 7_345, 29_990]) {
    const still = vap.stillFrame(f.short, at, { png: true })
    assert.ok(Buffer.isBuffer(still.png))
    assert.ok(Buffer.isBuffer(still.rgb))
    assert.equal(still.rgb.length, 160 * 120 * 3)
    assert.deepEqual([still.width, still.height], [160, 120])
    const frame = idx.frameAt(at)
    assert.ok(Math.abs(still.frameMs - frame) < 1e-6, `${still.frameMs} vs ${frame}`)
    assert.equal(still.path, f.short)
    const png = join(d, `still-${at}.png`)
    writeFileSync(png, still.png)
    const ours = ffmpeg(['-i', png, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'])
    const theirs = ffmpeg(['-i', f.short, '-ss', (frame / 1000).toFixed(3), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'])
    assert.equal(ours.length, 160 * 120 * 3)
    assert.ok(ours.equals(still.rgb), 'the PNG holds exactly the core\'s pixels')
    assert.equal(theirs.length, ours.length)
    let sum = 0
    for (let i = 0; i < ours.length; i++) sum += Math.abs(ours[i] - theirs[i])
    assert.ok(sum / ours.length < 3, `at ${at}: mean abs pixel difference ${sum / ours.length}`)
  }
  const small = vap.stillFrame(f.short, 1_000, { maxWidth: 80 })
  assert.deepEqual([small.width, small.height], [80, 60])
  assert.equal(small.rgb.length, 80 * 60 * 3)
  assert.equal(small.png, undefined, 'no PNG unless asked')
  assertVapError(() => vap.stillFrame(f.short, 1_000, { png: 'yes' }), 'VAP_INVALID_ARGUMENT')
  assertVapError(() => vap.stillFrame(f.short, 1_000, { maxWidth: 0 }), 'VAP_INVALID_ARGUMENT')
})
