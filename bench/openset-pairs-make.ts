/**
 * A deterministic LFW-style pairs list from an openset folder (`gallery/<name>/*`,
 * `probe-known/<name>/*`, `probe-strangers/<name>/*`): the rows `bench:accuracy` reads.
 *
 * Same-person rows pair two photos of one enrolled person (gallery and probe photos together, so
 * gallery-gallery, gallery-probe and probe-probe pairs all occur), a few rows per person, round-robin.
 * Different-person rows pair one photo each of two distinct people drawn from everyone (enrolled
 * people and strangers alike). Choices come from a seeded generator over names sorted in byte order,
 * so the same folder and seed give the same file on any machine. Images are chosen by name only,
 * never by what the engine makes of them: hard photos (profiles, several faces, no face found) stay in.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE_EXTENSIONS } from '../cli/lib/people-folder.js';

/** Image paths relative to the openset folder (`gallery/A/A_0001.jpg`), per person. */
type PeopleImages = Map<string, string[]>;

export interface OpensetListing {
  /** Enrolled people: their gallery and probe-known photos together. */
  known: PeopleImages;
  /** People who are not enrolled. */
  strangers: PeopleImages;
}

export interface PairsOptions {
  same: number;
  different: number;
  seed: number;
}

export interface PairRow {
  x: string;
  y: string;
  same: boolean;
}

export const DEFAULT_PAIRS_OPTIONS: PairsOptions = { same: 300, different: 300, seed: 11 };

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** mulberry32: a small, well-known 32-bit generator; enough for picking rows, and identical everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function listPeople(root: string, folder: string, into: PeopleImages): Promise<void> {
  const dir = path.join(root, folder);
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${dir}: ${err.code ?? err.message}`);
  });
  for (const entry of entries.filter((e) => e.isDirectory() && !e.name.startsWith('.'))) {
    const files = (await readdir(path.join(dir, entry.name)))
      .filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase()))
      .sort(byteOrder)
      .map((f) => `${folder}/${entry.name}/${f}`);
    into.set(entry.name, [...(into.get(entry.name) ?? []), ...files]);
  }
}

/** Reads the openset folder's three subfolders (names only; no image is opened). */
export async function listOpenset(root: string): Promise<OpensetListing> {
  const known: PeopleImages = new Map();
  await listPeople(root, 'gallery', known);
  await listPeople(root, 'probe-known', known);
  const strangers: PeopleImages = new Map();
  await listPeople(root, 'probe-strangers', strangers);
  for (const name of strangers.keys()) {
    if (known.has(name)) throw new Error(`${name} is both enrolled and a stranger`);
  }
  return { known, strangers };
}

const sortedPeople = (people: PeopleImages) =>
  [...people.entries()].filter(([, files]) => files.length > 0).sort(([a], [b]) => byteOrder(a, b));

/** The rows: `options.same` same-person rows, then `options.different` different-person rows; no row twice. */
export function makeOpensetPairs(
  listing: OpensetListing,
  options: PairsOptions = DEFAULT_PAIRS_OPTIONS,
): PairRow[] {
  const random = seededRandom(options.seed);
  for (const files of [...listing.known.values(), ...listing.strangers.values()]) {
    const bad = files.find((f) => f.includes(','));
    if (bad) throw new Error(`a comma in ${bad} would break the pairs file`);
  }

  // Same person: every unordered pair of each enrolled person's photos, shuffled; people take turns.
  const candidates = sortedPeople(listing.known).map(([, files]) => {
    const pairs: [string, string][] = [];
    for (let i = 0; i < files.length; i++)
      for (let j = i + 1; j < files.length; j++) pairs.push([files[i], files[j]]);
    return shuffle(pairs, random);
  });
  const available = candidates.reduce((n, c) => n + c.length, 0);
  if (available < options.same) {
    throw new Error(`only ${available} same-person pairs exist; ${options.same} asked`);
  }
  const rows: PairRow[] = [];
  for (let turn = 0; rows.length < options.same; turn++) {
    for (const pairs of candidates) {
      if (rows.length === options.same) break;
      if (turn < pairs.length) rows.push({ x: pairs[turn][0], y: pairs[turn][1], same: true });
    }
  }

  // Different people: two distinct people from everyone, one photo of each.
  const everyone = sortedPeople(new Map([...listing.known, ...listing.strangers]));
  if (everyone.length < 2 && options.different > 0) throw new Error('different-person pairs need two people');
  const seen = new Set<string>();
  const pick = (files: string[]) => files[Math.floor(random() * files.length)];
  let attempts = 0;
  while (rows.length < options.same + options.different) {
    if (++attempts > 100 * (options.different + 1)) {
      throw new Error(`cannot find ${options.different} distinct different-person pairs`);
    }
    const a = Math.floor(random() * everyone.length);
    const b = Math.floor(random() * everyone.length);
    if (a === b) continue;
    const [x, y] = [pick(everyone[a][1]), pick(everyone[b][1])];
    const key = [x, y].sort(byteOrder).join('\n');
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ x, y, same: false });
  }
  return rows;
}

/** The file `bench:accuracy` reads: a header, then `file_x,file_y,Yes|No` per row. */
export function formatPairs(rows: PairRow[]): string {
  return (
    ['file_x,file_y,Decision', ...rows.map((r) => `${r.x},${r.y},${r.same ? 'Yes' : 'No'}`)].join('\n') + '\n'
  );
}

/** What the rows draw on, for the printout: rows per kind of photo pair. */
export function describePairs(rows: PairRow[], listing: OpensetListing) {
  const strangerFiles = new Set([...listing.strangers.values()].flat());
  const kind = (f: string) =>
    strangerFiles.has(f) ? 'stranger' : f.startsWith('gallery/') ? 'gallery' : 'probe';
  const counts: Record<string, number> = {};
  for (const r of rows) {
    const label = `${r.same ? 'same' : 'different'} ${[kind(r.x), kind(r.y)].sort(byteOrder).join('-')}`;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return {
    rows: rows.length,
    same: rows.filter((r) => r.same).length,
    different: rows.filter((r) => !r.same).length,
    images: new Set(rows.flatMap((r) => [r.x, r.y])).size,
    byKind: Object.fromEntries(Object.entries(counts).sort(([a], [b]) => byteOrder(a, b))),
  };
}
