// A stored session replayed as if live: its events appended ten seconds of
// stream at a time into a vap.LiveSession (an EventEmitter), alerts printed
// as they fire.
//
//   node examples/node/live.mjs demo-store      # after `make demo`
//   node examples/node/live.mjs --simulate 1    # a fresh one-hour synthetic room
import vap from '../../index.mjs'

const args = process.argv.slice(2)
let session
if (args[0] && !args[0].startsWith('--')) {
  const store = new vap.Store(args[0])
  const info = store.sessions().at(-1)
  session = store.load(info.roomId, info.sessionId)
} else {
  const hours = Number(args[args.indexOf('--simulate') + 1]) || 1
  session = vap.simulate({ seed: 42, hours }).data
}
const tz = session.session.timezone ?? 'UTC'
const clock = (ms) => new Date(ms).toLocaleTimeString('en-GB', { timeZone: tz, hour12: false })

const live = new vap.LiveSession(session)
live.on('alert', (a) => {
  console.log(`live: [${clock(a.atMs)}] ${a.kind.padEnd(28)} ${a.messageZh}`)
  for (const q of a.questions.slice(0, 3)) console.log(`live:      ? ${q}`)
})
const batches = vap.liveFeed(session, 10_000)
const ms = []
for (const batch of batches) {
  const t = performance.now()
  await live.appendAsync(batch)
  ms.push(performance.now() - t)
}
ms.sort((a, b) => a - b)
console.log(
  `live: ${batches.length} appends of 10 s; ${live.timeline().length} bins, ${live.moments().length} moments, ` +
    `${live.alerts().length} alerts; update median ${ms[ms.length >> 1].toFixed(1)} ms, p99 ${ms[Math.floor(0.99 * (ms.length - 1))].toFixed(1)} ms`,
)
