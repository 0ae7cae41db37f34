import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MANIFEST_FILE, readModelManifest } from '#functions/core/faces/model-manifest.js';

const generated = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../models/generated');

describe('readModelManifest', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'facerec-manifest-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts the manifest the build wrote', () => {
    expect(Object.keys(readModelManifest(generated).models)).toEqual([
      'detector',
      'landmarks68',
      'descriptor',
      'mobilefacenet',
    ]);
  });

  it('sends models built for float32 input (before the nets took 8-bit pixels) back to the build', () => {
    const manifest = JSON.parse(readFileSync(path.join(generated, MANIFEST_FILE), 'utf8'));
    manifest.models.detector.inputs[0].dtype = 'float32';
    writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest));
    expect(() => readModelManifest(dir)).toThrow(/detector: built for float32 input.*npm run models/);
  });
});
