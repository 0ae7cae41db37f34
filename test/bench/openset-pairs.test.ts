import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatPairs, listOpenset, makeOpensetPairs, type PairRow } from '#bench/openset-pairs-make.js';

let root: string;

beforeAll(async () => {
  // The openset layout with empty files: the generator reads names only.
  root = await mkdtemp(path.join(tmpdir(), 'openset-pairs-'));
  const add = async (folder: string, person: string, numbers: number[]) => {
    await mkdir(path.join(root, folder, person), { recursive: true });
    for (const n of numbers) await writeFile(path.join(root, folder, person, `${person}_000${n}.jpg`), '');
  };
  for (const person of ['Ann', 'Bob', 'Cy', 'Di']) {
    await add('gallery', person, [1, 2, 3]);
    await add('probe-known', person, [4, 5, 6]);
  }
  for (let i = 0; i < 10; i++) await add('probe-strangers', `S${i}`, [1]);
  await writeFile(path.join(root, 'gallery', 'Ann', 'notes.txt'), 'not an image');
});

afterAll(() => rm(root, { recursive: true, force: true }));

const personOf = (file: string) => file.split('/')[1];

describe('openset pairs', () => {
  it('lists every photo by name, gallery and probes together per enrolled person', async () => {
    const listing = await listOpenset(root);
    expect([...listing.known.keys()].sort()).toEqual(['Ann', 'Bob', 'Cy', 'Di']);
    expect(listing.known.get('Ann')).toEqual([
      'gallery/Ann/Ann_0001.jpg',
      'gallery/Ann/Ann_0002.jpg',
      'gallery/Ann/Ann_0003.jpg',
      'probe-known/Ann/Ann_0004.jpg',
      'probe-known/Ann/Ann_0005.jpg',
      'probe-known/Ann/Ann_0006.jpg',
    ]);
    expect(listing.strangers.size).toBe(10);
  });

  it('gives the asked counts, right labels, no row twice, the same rows for the same seed', async () => {
    const listing = await listOpenset(root);
    const rows = makeOpensetPairs(listing, { same: 12, different: 20, seed: 7 });
    expect(rows.filter((r) => r.same)).toHaveLength(12);
    expect(rows.filter((r) => !r.same)).toHaveLength(20);
    for (const r of rows) expect(personOf(r.x) === personOf(r.y)).toBe(r.same);
    const key = (r: PairRow) => [r.x, r.y].sort().join(' ');
    expect(new Set(rows.map(key)).size).toBe(rows.length);
    // round-robin: each enrolled person gives 3 of the 12 same-person rows
    for (const person of listing.known.keys())
      expect(rows.filter((r) => r.same && personOf(r.x) === person)).toHaveLength(3);

    expect(makeOpensetPairs(await listOpenset(root), { same: 12, different: 20, seed: 7 })).toEqual(rows);
    expect(makeOpensetPairs(listing, { same: 12, different: 20, seed: 8 })).not.toEqual(rows);

    const text = formatPairs(rows);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('file_x,file_y,Decision');
    expect(lines).toHaveLength(33);
    expect(lines[1]).toMatch(/^gallery\/|^probe-known\//);
    expect(lines.slice(1).every((l) => /^[^,]+,[^,]+,(Yes|No)$/.test(l))).toBe(true);
  });

  it('refuses what it cannot give rather than giving fewer rows', async () => {
    const listing = await listOpenset(root);
    // 4 people x C(6,2) = 60 same-person pairs exist
    expect(makeOpensetPairs(listing, { same: 60, different: 0, seed: 1 })).toHaveLength(60);
    expect(() => makeOpensetPairs(listing, { same: 61, different: 0, seed: 1 })).toThrow(
      /only 60 same-person pairs/,
    );
    listing.strangers.set('A,B', ['probe-strangers/A,B/A,B_0001.jpg']);
    expect(() => makeOpensetPairs(listing, { same: 1, different: 1, seed: 1 })).toThrow(/comma/);
  });
});
