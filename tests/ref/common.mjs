// Shared by the reference scripts: the import profiles of DESIGN.md as
// ipfs-unixfs-importer options, and the walk that turns a path into import
// candidates the way ipfs-accelerate's importer reads a path (symlinks
// followed, names starting with '.' skipped unless --hidden, entries sorted,
// a folder's root is the folder itself, empty folders kept).
//
// The npm packages live outside the repo, in the folder scripts/npm-refs.sh
// installs into ($IA_NPM_CACHE, else ~/.cache/ipfs-accelerate/npm-refs).
// ESM ignores NODE_PATH, so load() resolves a package's "import" export
// there by hand; its own dependencies then resolve from its location.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

export const NPM_DIR = process.env.IA_NPM_CACHE || path.join(os.homedir(), '.cache', 'ipfs-accelerate', 'npm-refs')

export async function load (spec) {
  const parts = spec.split('/')
  const n = spec.startsWith('@') ? 2 : 1
  const name = parts.slice(0, n).join('/')
  const sub = parts.length > n ? './' + parts.slice(n).join('/') : '.'
  const dir = path.join(NPM_DIR, 'node_modules', name)
  let pj
  try {
    pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  } catch {
    throw new Error(`${name} is not installed in ${NPM_DIR} (run scripts/npm-refs.sh)`)
  }
  let entry = pj.exports?.[sub]
  if (entry != null && typeof entry === 'object') entry = entry.import ?? entry.default
  if (entry == null && sub === '.') entry = pj.module ?? pj.main ?? 'index.js'
  if (entry == null) throw new Error(`${spec}: no such export`)
  return import(pathToFileURL(path.join(dir, entry)).href)
}

const { importer } = await load('ipfs-unixfs-importer')
const { fixedSize } = await load('ipfs-unixfs-importer/chunker')
const { balanced } = await load('ipfs-unixfs-importer/layout')

// A blockstore that keeps every block once, in the order written.
export class BlockList {
  constructor () { this.blocks = new Map() }
  async put (cid, bytes) {
    const k = cid.toString()
    if (!this.blocks.has(k)) this.blocks.set(k, { cid, bytes })
    return cid
  }
}

export const PROFILES = {
  default: { cidVersion: 1, rawLeaves: true, chunkSize: 262144, maxChildrenPerNode: 174 },
  'unixfs-v1-2025': { cidVersion: 1, rawLeaves: true, chunkSize: 1048576, maxChildrenPerNode: 1024, profile: 'unixfs-v1-2025' },
  'unixfs-v0-2015': { cidVersion: 0, rawLeaves: false, chunkSize: 262144, maxChildrenPerNode: 174, profile: 'unixfs-v0-2015' }
}

// `over` replaces profile values (chunkSize, maxChildrenPerNode): unit tests
// use small ones to get deep trees from a few KiB.
export function importerOptions (name, over = {}) {
  const p = { ...PROFILES[name], ...over }
  if (PROFILES[name] == null) throw new Error(`unknown profile ${name}`)
  const o = {
    cidVersion: p.cidVersion,
    rawLeaves: p.rawLeaves,
    reduceSingleLeafToSelf: true,
    wrapWithDirectory: false,
    chunker: fixedSize({ chunkSize: p.chunkSize }),
    layout: balanced({ maxChildrenPerNode: p.maxChildrenPerNode })
  }
  // The named profiles also pick the reference's folder-size measure.
  if (p.profile != null) o.profile = p.profile
  return o
}

function * walk (fsPath, importPath, hidden) {
  const st = fs.statSync(fsPath)
  if (st.isFile()) {
    yield { path: importPath, content: fs.createReadStream(fsPath, { highWaterMark: 1 << 20 }) }
    return
  }
  if (!st.isDirectory()) throw new Error(`${fsPath}: not a regular file or folder`)
  // Sort by UTF-8 bytes, the order dag-pb links take.
  const names = fs.readdirSync(fsPath)
    .filter(n => hidden || !n.startsWith('.'))
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  if (names.length === 0) {
    yield { path: importPath }
    return
  }
  for (const n of names) yield * walk(path.join(fsPath, n), `${importPath}/${n}`, hidden)
}

export function candidates (p, hidden = false) {
  const base = path.basename(path.resolve(p))
  return walk(p, base, hidden)
}

// Imports p into blockstore; returns the root entry (the last one yielded).
export async function importPath (p, profile, blockstore, hidden = false, over = {}) {
  let last
  for await (const entry of importer(candidates(p, hidden), blockstore, importerOptions(profile, over))) last = entry
  if (last == null) throw new Error(`${p}: nothing imported`)
  return last
}

export function parseArgs (argv, usage) {
  const out = { profile: 'default', hidden: false, rest: [], over: {} }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--profile') out.profile = argv[++i]
    else if (a === '--chunk-size') out.over.chunkSize = Number(argv[++i])
    else if (a === '--max-links') out.over.maxChildrenPerNode = Number(argv[++i])
    else if (a === '--hidden') out.hidden = true
    else if (a === '-o') out.output = argv[++i]
    else if (a.startsWith('-')) { console.error(usage); process.exit(2) } else out.rest.push(a)
  }
  if (PROFILES[out.profile] == null) {
    console.error(`unknown profile ${out.profile}`)
    process.exit(2)
  }
  return out
}
