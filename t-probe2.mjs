import ort from 'onnxruntime-node';
const o = process.env.X ? { graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } } : {};
const ms = ['descriptor','detector','landmarks68'].map(m=>'models/generated/'+m+'.onnx');
if (process.env.SEQ) { for (const m of ms) await ort.InferenceSession.create(m, o); }
else await Promise.all(ms.map(m=>ort.InferenceSession.create(m, o)));
console.error('ok');
