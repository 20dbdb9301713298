// node tests/ref/car-read.mjs FILE.car
// Reads a CAR v1 with @ipld/car, checks every block against its CID
// (sha2-256, or identity) and prints {"roots": [...], "blocks": [...]} as
// JSON (CIDs as strings, blocks in file order). Exit 1 on any bad block.
import fs from 'node:fs'
import { load } from './common.mjs'

const { CarBlockIterator } = await load('@ipld/car/iterator')
const { sha256 } = await load('multiformats/hashes/sha2')
const { equals } = await load('multiformats/bytes')

const file = process.argv[2]
if (file == null || process.argv.length !== 3) {
  console.error('usage: node car-read.mjs FILE.car')
  process.exit(2)
}
const it = await CarBlockIterator.fromIterable(fs.createReadStream(file))
const roots = (await it.getRoots()).map(String)
const blocks = []
let bad = 0
for await (const { cid, bytes } of it) {
  const code = cid.multihash.code
  let ok
  if (code === sha256.code) ok = equals((await sha256.digest(bytes)).digest, cid.multihash.digest)
  else if (code === 0x00) ok = equals(bytes, cid.multihash.digest)
  else ok = false
  if (!ok) {
    console.error(`${file}: block ${cid} does not match its hash (or uses an unknown one)`)
    bad++
  }
  blocks.push(cid.toString())
}
console.log(JSON.stringify({ roots, blocks }))
process.exit(bad ? 1 : 0)
