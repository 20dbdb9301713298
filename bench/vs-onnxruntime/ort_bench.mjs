// ONNX Runtime's side of bench/vs-onnxruntime: onnxruntime-node (CPU
// execution provider, default graph optimisations = all, as a user gets
// it), intra-op threads = THREADS, inter-op 1, sequential execution.
// Runs WARMUP untimed and REPS timed runs and prints one JSON line like
// ia_bench: {"engine":"ort","threads":T,"load_s":..,"ms":[..]}. With -o DIR
// the outputs of the last run are written as DIR/<k>.npy.
//
//   node ort_bench.mjs [-o DIR] MODEL THREADS WARMUP REPS NAME=FILE.npy ...
//
// onnxruntime-node is found through $IA_NPM_CONF (the npm prefix folder
// scripts/test-refs.sh npm prints).
//
// .npy (numpy's format v1-v3): magic "\x93NUMPY", major, minor, header
// length (uint16 LE for v1, uint32 LE for v2/v3), an ASCII dict with
// 'descr', 'fortran_order', 'shape', then the elements in C order. Only
// the little-endian types below, C order, headers up to 1 MiB.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ORT_TYPES = { '<f4': 'float32', '<f8': 'float64', '<i8': 'int64', '<i4': 'int32' };
const NPY_OF = { float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4' };

const ARR = { '<f4': Float32Array, '<f8': Float64Array, '<i8': BigInt64Array, '<i4': Int32Array };

function die(msg) {
  console.error(`ort_bench: ${msg}`);
  process.exit(1);
}

function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.length < 12 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') die(`${path}: not .npy`);
  const v1 = buf[6] === 1;
  const hlen = v1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8), off = v1 ? 10 : 12;
  if (hlen > 1 << 20 || off + hlen > buf.length) die(`${path}: bad header length`);
  const h = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(h), shape = /'shape':\s*\(([^)]*)\)/.exec(h);
  if (!descr || !shape || /'fortran_order':\s*True/.test(h)) die(`${path}: unsupported header`);
  const Arr = ARR[descr[1]];
  if (!Arr) die(`${path}: dtype ${descr[1]} not handled here`);
  const dims = shape[1].split(',').map((x) => x.trim()).filter((x) => x).map(Number);
  const n = dims.reduce((a, b) => a * b, 1), start = off + hlen;
  if (!dims.every(Number.isSafeInteger) || start + n * Arr.BYTES_PER_ELEMENT > buf.length)
    die(`${path}: data shorter than its shape`);
  const data = new Arr(n); // a fresh buffer: typed arrays need alignment
  new Uint8Array(data.buffer).set(buf.subarray(start, start + n * Arr.BYTES_PER_ELEMENT));
  return { descr: descr[1], dims, data };
}

function writeNpy(path, descr, dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  h += ' '.repeat((64 - ((10 + h.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(h.length, 8);
  writeFileSync(path, Buffer.concat([pre, Buffer.from(h, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

let args = process.argv.slice(2);
let outDir = null;
if (args[0] === '-o') {
  outDir = args[1];
  args = args.slice(2);
}
if (args.length < 4) die('usage: ort_bench.mjs [-o DIR] MODEL THREADS WARMUP REPS NAME=FILE.npy ...');
const [model, threadsS, warmS, repsS, ...specs] = args;
const threads = Number(threadsS), warm = Number(warmS), reps = Number(repsS);
const prefix = process.env.IA_NPM_CONF;
if (!prefix) die('IA_NPM_CONF must name the npm prefix of scripts/test-refs.sh npm');
const ort = createRequire(join(prefix, 'package.json'))('onnxruntime-node');

const feeds = {};
for (const spec of specs) {
  const eq = spec.indexOf('=');
  if (eq <= 0) die(`wants NAME=FILE, got '${spec}'`);
  const t = readNpy(spec.slice(eq + 1));
  if (!ORT_TYPES[t.descr]) die(`${spec}: dtype ${t.descr} not handled here`);
  feeds[spec.slice(0, eq)] = new ort.Tensor(ORT_TYPES[t.descr], t.data, t.dims);
}
const t0 = performance.now();
const session = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
});
const loadS = (performance.now() - t0) / 1e3;
const ms = [];
let results;
for (let r = 0; r < warm + reps; r++) {
  const t = performance.now();
  results = await session.run(feeds);
  const dt = performance.now() - t;
  if (r >= warm) ms.push(Number(dt.toFixed(3)));
}
console.log(JSON.stringify({ engine: 'ort', threads, load_s: Number(loadS.toFixed(3)), ms }));
if (outDir) {
  session.outputNames.forEach((name, k) => {
    const t = results[name];
    if (!NPY_OF[t.type]) die(`output ${name}: type ${t.type} has no .npy writer here`);
    writeNpy(join(outDir, `${k}.npy`), NPY_OF[t.type], t.dims.map(Number), t.data);
  });
}
