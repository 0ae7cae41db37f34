/**
 * One engine of the long-video benchmark's floor in several processes (bench/long-video.ts): run
 * as a child process with IPC (`fork`), arguments `<frames.json> <gallery> <index> <of>`. It loads
 * the engine (FACEREC_ONNX_THREADS from its environment) and the gallery, reads every `of`-th frame
 * from `index`, warms up, says `ready`, and on `go` identifies the faces of its frames (two at a
 * time, so that a frame's decode overlaps the previous frame's nets, as the recognition function
 * does), then says `done`. Only the time between `go` and the last `done` is the floor's.
 */
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../functions/config.js';
import { mapLimit } from '../functions/core/concurrency.js';
import { createFaceEngine } from '../functions/core/faces/engine.js';
import { readGallery } from '../functions/core/gallery/read.js';

const [framesFile, galleryPath, index, of] = process.argv.slice(2);
const send = (type: 'ready' | 'done') => process.send?.({ type });

const engine = await createFaceEngine(loadConfig().engine);
const gallery = await readGallery(galleryPath, undefined);
const all = JSON.parse(await readFile(framesFile, 'utf8')) as string[];
const mine = all.filter((_, i) => i % Number(of) === Number(index));
const images = await Promise.all(mine.map((f) => readFile(f)));
// Warm up (first-run allocations), not timed.
for (const img of images.slice(0, 3)) await engine.identifyFaces(img, gallery);
process.once('message', () => {
  void mapLimit(images, 2, (img) => engine.identifyFaces(img, gallery)).then(() => {
    send('done');
    process.disconnect?.();
  });
});
send('ready');
