import ort from 'onnxruntime-node';
console.error('args', process.argv.length);
const s = await ort.InferenceSession.create('models/generated/' + process.env.M);
console.error('ok');
