// Runs a TensorFlow.js graph model with the real TF.js runtime (@tensorflow/tfjs, pure-JS CPU
// backend) on fixed inputs and writes reference.json (format: docs/test_models.md), so that the
// ONNX graph made by tfjs2onnx.py can be checked against it (scripts/models/ort_check.cc and
// tests/embed/tfjs_conversion_test.cc).
//
//   NODE_PATH=.cache/node/node_modules node scripts/models/tfjs_reference.mjs \
//     --model M.json --io M.io.json --onnx model.onnx --range 0,255 --photo astronaut.png \
//     --out reference.json
//
// --io is the name map written by `tfjs2onnx.py --io`; an output with a "pool" entry ("mean" or
// "gem", over "axes": tfjs2onnx.py --extra-output --pool) is pooled here the same way. The inputs
// (scaled to --range):
//   synthetic: x[n,y,x,c] = lo + (hi - lo) * ((7n + 3c + 5y + 11x) mod 17) / 16 (NHWC indices;
//              for an NCHW input the same value sits at [n,c,y,x]);
//   photo:     the PNG resized with tf.image.resizeBilinear to the input size, lo..hi for 0..255.
// A model with a dynamic batch gets one case of batch 2 (synthetic, photo); a fixed batch of 1
// gets one case per input. Each output's tolerance is max(--atol, --rtol * max|reference|);
// outputs of one input with equal tolerances share a case ("atol" of the case), others get
// their own case, because ort_check applies one atol per case.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(path.join(process.env.NODE_PATH || process.cwd(), 'x'));
const tf = require('@tensorflow/tfjs');
const { PNG } = require('pngjs');

function parseArgs(argv) {
  const args = { atol: 1e-4, rtol: 1e-5, range: '0,1' };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['model', 'io', 'onnx', 'out', 'photo']) if (!args[k]) throw new Error(`--${k} is required`);
  return args;
}

// Loads model.json and its shards the way tf.loadGraphModel does over HTTP. `input` (from --io)
// may give the input another shape than the file (tfjs2onnx.py --input-shape).
async function loadModel(file, input) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const placeholder = json.modelTopology.node.find((n) => n.name === input.tf && n.op === 'Placeholder');
  const dims = placeholder ? placeholder.attr.shape.shape.dim : [];
  if (placeholder && dims.map((d) => Number(d.size ?? -1)).join() !== input.shape.join()) {
    placeholder.attr.shape.shape.dim = input.shape.map((d) => ({ size: String(d) }));
  }
  const dir = path.dirname(file);
  const weightSpecs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs, weightData, format: json.format,
    generatedBy: json.generatedBy, convertedBy: json.convertedBy, signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
  }));
}

// The shortest decimal that reads back as the same float32, to keep the JSON small.
function f32(v) {
  if (!Number.isFinite(v)) throw new Error(`non-finite value ${v} in a reference tensor`);
  for (let p = 6; p < 9; ++p) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return s;
  }
  return Number(v.toPrecision(9));
}

// What tfjs2onnx.py --pool appends to an extra output.
function pooled(t, spec) {
  if (!spec.pool) return t;
  if (spec.pool === 'mean') return tf.mean(t, spec.axes);
  if (spec.pool === 'gem') return tf.pow(tf.mean(tf.pow(tf.maximum(t, 1e-6), 3), spec.axes), 1 / 3);
  throw new Error(`output ${spec.onnx}: unknown pool ${spec.pool}`);
}

function syntheticNHWC(n, h, w, c, lo, hi) {
  const out = new Float32Array(n * h * w * c);
  let k = 0;
  for (let b = 0; b < n; ++b) for (let y = 0; y < h; ++y) for (let x = 0; x < w; ++x) for (let ch = 0; ch < c; ++ch) {
    out[k++] = lo + (hi - lo) * (((7 * b + 3 * ch + 5 * y + 11 * x) % 17) / 16);
  }
  return tf.tensor4d(out, [n, h, w, c]);
}

function photoNHWC(file, h, w, lo, hi) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const rgb = new Float32Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; ++i) for (let ch = 0; ch < 3; ++ch) rgb[3 * i + ch] = png.data[4 * i + ch];
  return tf.tidy(() => {
    const img = tf.tensor4d(rgb, [1, png.height, png.width, 3]);
    const resized = tf.image.resizeBilinear(img, [h, w], false);
    return tf.add(tf.mul(resized, (hi - lo) / 255), lo);
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  await tf.setBackend('cpu');
  const io = JSON.parse(fs.readFileSync(args.io, 'utf8'));
  if (io.inputs.length !== 1) throw new Error(`${args.model}: expected one image input, found ${io.inputs.length}`);
  const [lo, hi] = args.range.split(',').map(Number);
  const input = io.inputs[0];
  const shape = input.shape;
  const nchw = shape[1] === 3 && shape[3] !== 3;
  const [h, w] = nchw ? [shape[2], shape[3]] : [shape[1], shape[2]];
  const toLayout = (t) => (nchw ? tf.transpose(t, [0, 3, 1, 2]) : t);
  const synthetic = toLayout(syntheticNHWC(1, h, w, 3, lo, hi));
  const photo = toLayout(photoNHWC(args.photo, h, w, lo, hi));
  const batches = shape[0] === -1 ? [tf.concat([synthetic, photo], 0)] : [synthetic, photo];

  const model = await loadModel(args.model, input);
  const cases = [];
  const summary = [];
  for (const x of batches) {
    const outs = model.execute({ [input.tf]: x }, io.outputs.map((o) => o.tf));
    const list = (Array.isArray(outs) ? outs : [outs]).map((t, i) => pooled(t, io.outputs[i]));
    const inputJson = { name: input.onnx, dtype: 'float32', shape: x.shape, data: Array.from(x.dataSync(), f32) };
    const groups = new Map();
    list.forEach((t, i) => {
      const data = Float32Array.from(t.dataSync());
      let amax = 0;
      for (const v of data) amax = Math.max(amax, Math.abs(v));
      const atol = Math.max(Number(args.atol), Number(args.rtol) * amax);
      summary.push(`${io.outputs[i].onnx}${JSON.stringify(t.shape)} max|v|=${amax.toPrecision(4)} atol=${atol.toPrecision(3)}`);
      if (!groups.has(atol)) groups.set(atol, []);
      groups.get(atol).push({ name: io.outputs[i].onnx, dtype: 'float32', shape: t.shape, data: Array.from(data, f32) });
    });
    for (const [atol, outputs] of groups) cases.push({ model: args.onnx, inputs: [inputJson], outputs, atol });
  }
  const ref = {
    format: 1,
    description: `${path.basename(args.model)} run by @tensorflow/tfjs ${tf.version.tfjs} (cpu backend); ` +
      `inputs: synthetic pattern and ${path.basename(args.photo)} resized, range ${lo}..${hi}`,
    cases,
  };
  fs.writeFileSync(args.out, JSON.stringify(ref));
  for (const s of summary) console.log(`  ${s}`);
}

main().catch((e) => {
  console.error(`tfjs_reference: ${e.stack || e}`);
  process.exit(1);
});
