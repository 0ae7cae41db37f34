import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
if (process.env.W) {
  await new Promise((res, rej) => {
    const w = new Worker(`import ort from 'onnxruntime-node'; await ort.InferenceSession.create('models/generated/detector.onnx'); console.error('worker ok');`, { eval: true, resourceLimits: { stackSizeMb: Number(process.env.W) } });
    w.on('exit', res); w.on('error', rej);
  });
}
if (!process.env.ONLYW) { const s = await ort.InferenceSession.create('models/generated/detector.onnx'); console.error('main ok'); }
