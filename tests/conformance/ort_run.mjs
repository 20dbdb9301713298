// ONNX Runtime (onnxruntime-node, CPU execution provider) as the outside
// reference for tests/conformance/ppocr_vs_ort.sh, plus the .npy handling
// that test needs, so it depends on node alone.
//
//   node ort_run.mjs run MODEL OUTDIR NAME=FILE.npy ...
//       runs MODEL once with ORT (graph optimisations off, one thread: each
//       op as the spec says, no fused rewrites), writes each output as
//       OUTDIR/<name>.npy (name made safe as `ipfs-accelerate run` does)
//   node ort_run.mjs image KIND N,C,H,W OUT.npy
//       a deterministic synthetic page (dark "text lines" on a light
//       background, with seeded noise), normalised as PP-OCR's
//       preprocessing does: KIND det = ImageNet mean/std, KIND rec = (x-0.5)/0.5
//   node ort_run.mjs compare WANT.npy GOT.npy RTOL ATOL
//       prints `max_abs max_rel worst ok|FAIL [why]`, exit 0 when
//       |got - want| <= ATOL + RTOL * |want| everywhere (same dtype, shape)
//
// onnxruntime-node is found through $IA_NPM_CONF (the npm prefix folder
// scripts/test-refs.sh prints).
//
// .npy layout (numpy's format, versions 1-3): "\x93NUMPY", major, minor,
// header length (uint16 LE for v1, uint32 LE for v2/v3), then an ASCII
// Python dict {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }
// padded with spaces and '\n' so the data starts on a 64-byte boundary,
// then the elements in C order. Only little-endian numeric types are read;
// headers over 1 MiB, Fortran order and short data are refused.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const DTYPES = {
  '<f4': { ort: 'float32', Arr: Float32Array },
  '<f8': { ort: 'float64', Arr: Float64Array },
  '<i8': { ort: 'int64', Arr: BigInt64Array },
  '<i4': { ort: 'int32', Arr: Int32Array },
  '<i2': { ort: 'int16', Arr: Int16Array },
  '|i1': { ort: 'int8', Arr: Int8Array },
  '<u2': { ort: 'uint16', Arr: Uint16Array },
  '|u1': { ort: 'uint8', Arr: Uint8Array },
  '|b1': { ort: 'bool', Arr: Uint8Array },
};

function die(msg) {
  console.error(`ort_run: ${msg}`);
  process.exit(1);
}

export function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') die(`${path}: not a .npy file`);
  const major = buf[6];
  let hlen, off;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    off = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) die(`${path}: truncated header`);
    hlen = buf.readUInt32LE(8);
    off = 12;
  } else die(`${path}: .npy version ${major} unknown`);
  if (hlen > 1 << 20 || off + hlen > buf.length) die(`${path}: header length ${hlen} is bad`);
  const header = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) die(`${path}: header is not a numpy dict: ${header.trim()}`);
  if (fortran[1] === 'True') die(`${path}: Fortran order is not supported`);
  const dt = DTYPES[descr[1]];
  if (!dt) die(`${path}: dtype ${descr[1]} not supported`);
  const dims = shapeM[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length)
    .map((s) => {
      if (!/^\d+$/.test(s)) die(`${path}: bad dim '${s}'`);
      return Number(s);
    });
  const numel = dims.reduce((a, b) => a * b, 1);
  const start = off + hlen;
  const bytes = numel * dt.Arr.BYTES_PER_ELEMENT;
  if (!Number.isSafeInteger(bytes) || start + bytes > buf.length) die(`${path}: data is shorter than its shape says`);
  // Copy into a fresh, aligned buffer: typed arrays need element alignment.
  const data = new dt.Arr(numel);
  new Uint8Array(data.buffer).set(buf.subarray(start, start + bytes));
  return { descr: descr[1], dims, data };
}

export function writeNpy(path, descr, dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
  renameSync(tmp, path);
}

// The file name `ipfs-accelerate run` gives an output (src/cli/cmd_run.c).
function safeName(name) {
  let s = '';
  for (const c of name.slice(0, 150)) s += /[A-Za-z0-9._-]/.test(c) ? c : '_';
  if (!s) s = 'output';
  if (s[0] === '.') s = '_' + s.slice(1);
  return s;
}

async function cmdRun(model, outDir, specs) {
  const prefix = process.env.IA_NPM_CONF;
  if (!prefix) die('IA_NPM_CONF must name the npm prefix of scripts/test-refs.sh npm');
  const require = createRequire(join(prefix, 'package.json'));
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    die(`cannot load onnxruntime-node from ${prefix}: ${e.message}`);
  }
  const feeds = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) die(`wants NAME=FILE, got '${spec}'`);
    const t = readNpy(spec.slice(eq + 1));
    const ortType = DTYPES[t.descr].ort;
    const data = ortType === 'bool' ? Uint8Array.from(t.data, (v) => (v ? 1 : 0)) : t.data;
    feeds[spec.slice(0, eq)] = new ort.Tensor(ortType, data, t.dims);
  }
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const results = await session.run(feeds);
  mkdirSync(outDir, { recursive: true });
  for (const name of session.outputNames) {
    const t = results[name];
    const entry = Object.entries(DTYPES).find(([, v]) => v.ort === t.type);
    if (!entry) die(`output ${name}: type ${t.type} has no .npy writer here`);
    writeNpy(join(outDir, `${safeName(name)}.npy`), entry[0], t.dims.map(Number), t.data);
    console.log(`${name} ${t.type} [${t.dims.join(', ')}]`);
  }
}

// A deterministic generator (xorshift32): the same bytes on every machine.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function cmdImage(kind, shapeText, out) {
  const dims = shapeText.split(',').map(Number);
  if (dims.length !== 4 || dims.some((d) => !Number.isInteger(d) || d <= 0)) die(`bad shape '${shapeText}'`);
  const [n, c, h, w] = dims;
  const r = rng(h * 7919 + w);
  // Lines of glyph-like marks on a light page, in 0..1: each character
  // cell gets a few 2-pixel strokes (horizontal, vertical, diagonal), so the
  // detector sees text-like texture and its output is not all zeros.
  const page = new Float32Array(h * w).fill(0.92);
  const cell = Math.max(8, Math.min(24, Math.floor(h / 2)));
  const ink = (x, y) => {
    if (x >= 0 && y >= 0 && x < w && y < h) page[y * w + x] = 0.12;
  };
  for (let y0 = Math.floor(cell / 4); y0 + cell <= h; y0 += cell + Math.floor(cell / 2)) {
    let x0 = 2 + Math.floor(r() * cell);
    while (x0 + cell <= w) {
      for (let k = 0, nk = 3 + Math.floor(r() * 4); k < nk; k++) {
        const kind = Math.floor(r() * 3);
        const a = Math.floor(r() * (cell - 2)), b = Math.floor(r() * (cell - 2));
        const len = Math.floor(cell / 3 + r() * (cell / 2));
        for (let t = 0; t < len; t++)
          for (let th = 0; th < 2; th++) {
            if (kind === 0) ink(x0 + Math.min(cell - 1, a + t), y0 + b + th);
            else if (kind === 1) ink(x0 + a + th, y0 + Math.min(cell - 1, b + t));
            else ink(x0 + Math.min(cell - 1, a + t) + th, y0 + Math.min(cell - 1, (b + t) % cell));
          }
      }
      x0 += cell + 1 + Math.floor(r() * 3);
      if (r() < 0.15) x0 += cell; // a space between words
    }
  }
  const mean = kind === 'det' ? [0.485, 0.456, 0.406] : [0.5, 0.5, 0.5];
  const std = kind === 'det' ? [0.229, 0.224, 0.225] : [0.5, 0.5, 0.5];
  const data = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) {
        const v = Math.min(1, Math.max(0, page[i] + (r() - 0.5) * 0.06));
        data[(b * c + ch) * h * w + i] = (v - mean[ch % 3]) / std[ch % 3];
      }
  writeNpy(out, '<f4', dims, data);
}

function cmdCompare(wantPath, gotPath, rtol, atol) {
  const want = readNpy(wantPath);
  const got = readNpy(gotPath);
  if (want.descr !== got.descr || want.dims.join() !== got.dims.join()) {
    console.log(`- - - FAIL got ${got.descr}[${got.dims}], want ${want.descr}[${want.dims}]`);
    return 1;
  }
  let maxAbs = 0, maxRel = 0, worst = 0, worstAt = -1, nBad = 0, nonFinite = 0;
  for (let i = 0; i < want.data.length; i++) {
    const a = Number(want.data[i]), b = Number(got.data[i]);
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) nonFinite++;
      continue;
    }
    const err = Math.abs(a - b);
    const bound = atol + rtol * Math.abs(a);
    maxAbs = Math.max(maxAbs, err);
    maxRel = Math.max(maxRel, err / Math.max(Math.abs(a), atol));
    if (err / bound > worst) {
      worst = err / bound;
      worstAt = i;
    }
    if (err > bound) nBad++;
  }
  // Like Python's '%.3g', so both tiers' tables read alike.
  const g = (x) =>
    x !== 0 && (x < 1e-4 || x >= 1e6)
      ? x.toExponential(2).replace(/\.?0+e/, 'e').replace(/e([+-])(\d)$/, 'e$10$2')
      : Number(x.toPrecision(3)).toString();
  let line = `${g(maxAbs)} ${g(maxRel)} ${g(worst)} ${nBad || nonFinite ? 'FAIL' : 'ok'}`;
  if (nonFinite) line += ` ${nonFinite} non-finite values differ;`;
  if (nBad)
    line += ` ${nBad} of ${want.data.length} elements off; worst at flat index ${worstAt}: ` +
      `got ${Number(got.data[worstAt]).toPrecision(9)} want ${Number(want.data[worstAt]).toPrecision(9)}`;
  console.log(line);
  return nBad || nonFinite ? 1 : 0;
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'run' && args.length >= 2) {
  await cmdRun(args[0], args[1], args.slice(2));
} else if (cmd === 'image' && args.length === 3) {
  cmdImage(args[0], args[1], args[2]);
} else if (cmd === 'compare' && args.length === 4) {
  process.exitCode = cmdCompare(args[0], args[1], Number(args[2]), Number(args[3]));
} else {
  die('usage: ort_run.mjs run MODEL OUTDIR NAME=FILE... | image det|rec N,C,H,W OUT.npy | ' +
    'compare WANT GOT RTOL ATOL');
}
