import ort from 'onnxruntime-node';
try { await ort.InferenceSession.create(new Uint8Array([1,2,3,4])); } catch (e) { console.error('err', e.message.slice(0,80)); }
console.error('ok');
