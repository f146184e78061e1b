#!/usr/bin/env node
// Run an ONNX model with ONNX Runtime (CPU) on a float32 .npy batch: the
// peer csmpq is judged against, for exported models and for speed.
//
//   node scripts/ort-run.mjs MODEL.onnx IN.npy OUT.npy [--threads N]
//        [--repeat N] [--opt all|basic|disabled] [--save-optimized FILE]
//        [--no-qdq-fusion]
//
// Writes the model's first output as a float32 .npy.  With --repeat N the
// batch runs N more times after one warm-up, and one line
// `ort: <images/s> img/s <ms> ms/batch` goes to stdout.  --save-optimized
// writes the graph ONNX Runtime runs after its optimizations (to see, e.g.,
// whether it fused QDQ into integer operators); --no-qdq-fusion keeps
// all other optimizations but not the fusion of QDQ node groups into
// integer operators (session.disable_quant_qdq).
// ONNX Runtime comes from ort/node_modules (scripts/install-deps), or from
// the folder named by CSMPQ_ORT.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ortDir = process.env.CSMPQ_ORT || join(here, '..', 'ort');
const require = createRequire(join(ortDir, 'node_modules', 'x.js'));

function die(msg) {
    process.stderr.write(`ort-run: ${msg}\n`);
    process.exit(1);
}

function readNpy(path) {
    let buf;
    try { buf = readFileSync(path); } catch (e) { die(`${path}: ${e.message}`); }
    if (buf.length < 10 || buf.toString('latin1', 1, 6) !== 'NUMPY')
        die(`${path}: not a .npy file`);
    const major = buf[6];
    const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
    const hoff = major === 1 ? 10 : 12;
    const header = buf.toString('latin1', hoff, hoff + hlen);
    if (!/'descr':\s*'<f4'/.test(header)) die(`${path}: not float32 little-endian`);
    if (/'fortran_order':\s*True/.test(header)) die(`${path}: Fortran order`);
    const m = header.match(/'shape':\s*\(([^)]*)\)/);
    if (!m) die(`${path}: no shape in header`);
    const dims = m[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
    const n = dims.reduce((a, b) => a * b, 1);
    const off = hoff + hlen;
    if (buf.length < off + 4 * n) die(`${path}: truncated data`);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(off + 4 * i);
    return { data, dims };
}

function writeNpy(path, data, dims) {
    const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
    const total = 10 + header.length + 1;
    header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
    const head = Buffer.alloc(10);
    head.write('\x93NUMPY', 0, 'latin1');
    head[6] = 1; head[7] = 0;
    head.writeUInt16LE(header.length, 8);
    const body = Buffer.alloc(4 * data.length);
    for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
    const tmp = `${path}.tmp${process.pid}`;
    writeFileSync(tmp, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
    renameSync(tmp, path);
}

const args = process.argv.slice(2);
const pos = [];
let threads = 2, repeat = 0, opt = 'all', saveOpt = null, noQdq = false;
for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--threads') threads = Number(args[++i]);
    else if (a === '--repeat') repeat = Number(args[++i]);
    else if (a === '--opt') opt = args[++i];
    else if (a === '--save-optimized') saveOpt = args[++i];
    else if (a === '--no-qdq-fusion') noQdq = true;
    else pos.push(a);
}
if (pos.length !== 3 || !(threads >= 1) || !(repeat >= 0)) {
    process.stderr.write('usage: ort-run.mjs MODEL.onnx IN.npy OUT.npy [--threads N] [--repeat N] [--opt all|basic|disabled] [--save-optimized FILE] [--no-qdq-fusion]\n');
    process.exit(2);
}

let ort;
try { ort = require('onnxruntime-node'); } catch (e) {
    die(`onnxruntime-node not found under ${ortDir} (run scripts/install-deps)`);
}
const [modelPath, inPath, outPath] = pos;
const input = readNpy(inPath);
let session;
try {
    session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: threads, interOpNumThreads: 1,
        executionMode: 'sequential', graphOptimizationLevel: opt,
        ...(saveOpt ? { optimizedModelFilePath: saveOpt } : {}),
        ...(noQdq ? { extra: { session: { disable_quant_qdq: '1' } } } : {}),
    });
} catch (e) { die(`${modelPath}: ${e.message.split('\n')[0]}`); }
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
let out;
try { out = await session.run(feeds); } catch (e) { die(`${modelPath}: ${e.message.split('\n')[0]}`); }
const y = out[session.outputNames[0]];
if (repeat > 0) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < repeat; r++) await session.run(feeds);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const batch = input.dims[0] || 1;
    process.stdout.write(`ort: ${(batch * repeat / s).toFixed(2)} img/s ${(1000 * s / repeat).toFixed(3)} ms/batch\n`);
}
writeNpy(outPath, y.data, y.dims.map(Number));
