// node tests/ref/import.mjs [--profile P] [--hidden] [--chunk-size N --max-links N] PATH
// Prints the root CID the reference importer (ipfs-unixfs-importer) gives
// PATH with profile P (default, unixfs-v1-2025, unixfs-v0-2015); a folder
// is imported with everything below it, its own node as the root.
// --chunk-size/--max-links override the profile's (for unit-test vectors).
import { importPath, parseArgs } from './common.mjs'

const usage = 'usage: node import.mjs [--profile P] [--hidden] [--chunk-size N] [--max-links N] PATH'
const args = parseArgs(process.argv.slice(2), usage)
if (args.rest.length !== 1) {
  console.error(usage)
  process.exit(2)
}
// Only the root matters here: a put that keeps nothing bounds memory.
const sink = { async put (cid) { return cid } }
const root = await importPath(args.rest[0], args.profile, sink, args.hidden, args.over)
console.log(root.cid.toString())
