// node tests/ref/car-write.mjs [--profile P] [--hidden] PATH -o FILE.car
// Imports PATH with the reference importer (as import.mjs does) and writes
// every block of the result to a CAR v1 whose root is the imported root.
// Prints the root CID.
import fs from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { BlockList, importPath, load, parseArgs } from './common.mjs'

const { CarWriter } = await load('@ipld/car/writer')

const usage = 'usage: node car-write.mjs [--profile P] [--hidden] PATH -o FILE.car'
const args = parseArgs(process.argv.slice(2), usage)
if (args.rest.length !== 1 || args.output == null) {
  console.error(usage)
  process.exit(2)
}
const store = new BlockList()
const root = await importPath(args.rest[0], args.profile, store, args.hidden)
const { writer, out } = CarWriter.create([root.cid])
const done = pipeline(Readable.from(out), fs.createWriteStream(args.output))
for (const { cid, bytes } of store.blocks.values()) await writer.put({ cid, bytes })
await writer.close()
await done
console.log(root.cid.toString())
