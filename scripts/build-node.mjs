// Builds the Node addon with plain `cargo build` in the workspace's shared
// target directory and dev profile (the same artifacts `cargo test` uses),
// then copies it to the file name napi's generated loader (native.js) looks for.
// `npm run build:napi` regenerates native.js / native.d.ts with the napi CLI.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
execFileSync('cargo', ['build', '--locked', '-p', 'vap-node'], { cwd: root, stdio: 'inherit' })

const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target')
const lib = { linux: 'libvap_node.so', darwin: 'libvap_node.dylib', win32: 'vap_node.dll' }[process.platform]
if (!lib) throw new Error(`unsupported platform ${process.platform}`)
let suffix = `${process.platform}-${process.arch}`
if (process.platform === 'linux') {
  const musl = !process.report?.getReport?.().header?.glibcVersionRuntime
  suffix += musl ? '-musl' : '-gnu'
} else if (process.platform === 'win32') {
  suffix += '-msvc'
}
const src = join(targetDir, 'debug', lib)
if (!existsSync(src)) throw new Error(`cargo did not produce ${src}`)
const dst = join(root, `vap.${suffix}.node`)
copyFileSync(src, dst)
console.log(`built ${dst}`)
