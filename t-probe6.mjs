import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
const t0 = performance.now();
if (process.env.W) {
  await new Promise((res, rej) => {
    const w = new Worker(`import ort from 'onnxruntime-node'; try { await ort.InferenceSession.create(new Uint8Array([8])); } catch (e) { console.error('w', e.message.slice(0,60)); }`, { eval: true, resourceLimits: { stackSizeMb: Number(process.env.W) } });
    w.on('exit', res); w.on('error', rej);
  });
}
const t1 = performance.now();
const s = await Promise.all(['detector','landmarks68','descriptor'].map(m => ort.InferenceSession.create(`models/generated/${m}.onnx`)));
console.error('main ok', (t1-t0).toFixed(0), (performance.now()-t1).toFixed(0));
