import ort from 'onnxruntime-node';
const s = await ort.InferenceSession.create('models/generated/' + process.env.M, { graphOptimizationLevel: process.env.L });
console.error('ok');
