// A small HTTP service over an embedded vap store: a backend's view of the
// replays. It opens the store read-only and serves, as JSON or as the HTML
// report, what operators open after a stream.
//
//   npm install                                   # builds the native addon
//   node examples/node/service.mjs demo-store 8080
//
//   GET /health                                    {"ok": true}
//   GET /rooms                                     the rooms
//   GET /rooms/:room/sessions                      the room's stored sessions
//   GET /rooms/:room/sessions/:session/replay      the replay as JSON (?role=operator|anchor|fieldControl)
//   GET /rooms/:room/sessions/:session/report      the report (直播复盘报告) as HTML (?lang=zh|en)
//   GET /rooms/:room/report                        the room's report as HTML (?lang=zh|en)
//
// Every heavy call is a vap `...Async` method: it runs on libuv's thread pool,
// so a long replay never holds the event loop and other requests are answered
// meanwhile. Errors are JSON `{"error": {"code", "message"}}`: an unknown room
// or session is 404, a bad argument 400, anything else 500.
import http from 'node:http'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const vap = require('../../index.js') // `require('vap')` once installed as a package

/** vap error codes and the HTTP status they answer with. */
const STATUS = { VAP_NOT_FOUND: 404, VAP_INVALID_ARGUMENT: 400, VAP_VALIDATION: 400 }

class HttpError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function sendJson(res, status, value) {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value))
}

function sendError(res, e) {
  const status = e instanceof HttpError ? e.status : (STATUS[e?.code] ?? 500)
  sendJson(res, status, { error: { code: e?.code ?? 'INTERNAL', message: String(e?.message ?? e) } })
}

/**
 * The service: an `http.Server` (not yet listening) over the store at
 * `storeDir`, opened read-only. `cacheSize` replays are kept (and a replay
 * asked for twice at once is computed once).
 */
export function createService(storeDir, { cacheSize = 16 } = {}) {
  const store = vap.Store.openReadOnly(storeDir)
  const replays = new Map() // key -> Promise<Replay>, oldest first

  function replay(room, session) {
    const key = JSON.stringify([room, session])
    let p = replays.get(key)
    if (p) {
      replays.delete(key) // most recently used last
    } else {
      p = store.replayAsync(room, session)
      p.catch(() => replays.delete(key)) // a failure is not cached
    }
    replays.set(key, p)
    while (replays.size > cacheSize) replays.delete(replays.keys().next().value)
    return p
  }

  function knownRoom(room) {
    if (!store.rooms().some((r) => r.id === room)) {
      throw new HttpError(404, 'VAP_NOT_FOUND', `no room '${room}' in the store`)
    }
  }

  const routes = [
    [/^\/health$/, async () => ({ json: { ok: true } })],
    [/^\/rooms$/, async () => ({ json: store.rooms() })],
    [
      /^\/rooms\/([^/]+)\/sessions$/,
      async ([room]) => {
        knownRoom(room)
        return { json: store.sessions(room) }
      },
    ],
    [
      /^\/rooms\/([^/]+)\/sessions\/([^/]+)\/replay$/,
      async ([room, session], q) => {
        const rep = await replay(room, session)
        const role = q.get('role')
        return { json: role ? rep.view(role) : rep.toJSON() }
      },
    ],
    [
      /^\/rooms\/([^/]+)\/sessions\/([^/]+)\/report$/,
      async ([room, session], q) => {
        const rep = await replay(room, session)
        return { html: await rep.toHtmlAsync({ lang: q.get('lang') ?? undefined }) }
      },
    ],
    [
      /^\/rooms\/([^/]+)\/report$/,
      async ([room], q) => {
        knownRoom(room)
        return { html: await store.roomHtmlAsync(room, { lang: q.get('lang') ?? undefined }) }
      },
    ],
  ]

  async function handle(req, res) {
    const url = new URL(req.url, 'http://localhost')
    for (const [re, route] of routes) {
      const m = re.exec(url.pathname)
      if (!m) continue
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not served: use GET`)
      }
      let args
      try {
        args = m.slice(1).map(decodeURIComponent)
      } catch {
        throw new HttpError(400, 'VAP_INVALID_ARGUMENT', `bad escape in ${url.pathname}`)
      }
      const out = await route(args, url.searchParams)
      if (out.html !== undefined) send(res, 200, 'text/html; charset=utf-8', out.html)
      else sendJson(res, 200, out.json)
      return
    }
    throw new HttpError(404, 'NO_ROUTE', `no route ${url.pathname}: see GET /rooms`)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => sendError(res, e))
  })
  server.store = store
  return server
}

// `node examples/node/service.mjs <store> [port]`
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [storeDir = 'demo-store', port = '8080'] = process.argv.slice(2)
  const server = createService(storeDir)
  server.listen(Number(port), '127.0.0.1', () => {
    const { port: p } = server.address()
    console.log(`vap service on http://127.0.0.1:${p}/rooms  (store ${storeDir}; Ctrl-C stops)`)
  })
}
