/**
 * The enrollment journal: `<gallery>.enrolling`, one JSON line per photo described (its person,
 * content hash, recipe and outcome), appended as each photo is done. An enrollment that is
 * interrupted (Ctrl-C, kill -9, a crash, a full disk) leaves it behind; the next run of the same
 * enrollment reads it and does not describe those photos again. A finished enrollment removes
 * it once the gallery is written. A torn last line (killed mid-write) is ignored.
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import type { EnrollJournal, JournalOutcome } from './enroll.js';

interface Line {
  modelId: string;
  person: string;
  file: string;
  sha256: string;
  recipe: string;
  outcome: JournalOutcome;
}

export interface FileJournal extends EnrollJournal {
  readonly path: string;
  /** Photos found in the journal when it was opened (an interrupted run's work). */
  readonly carried: number;
  /** Removes the journal (the gallery holds everything now). */
  finish(): void;
}

export const journalPathOf = (gallery: string) => `${gallery}.enrolling`;

/** Opens (or starts) the journal of an enrollment into `gallery` with the engine `modelId`. */
export function openJournal(gallery: string, modelId: string): FileJournal {
  const path = journalPathOf(gallery);
  const entries = new Map<string, JournalOutcome>();
  const key = (person: string, sha: string, recipe: string) => `${person}\n${sha}\n${recipe}`;
  if (existsSync(path)) {
    for (const text of readFileSync(path, 'utf8').split('\n')) {
      if (!text.trim()) continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue; // the line being written when the run was killed
      }
      if (line.modelId !== modelId || typeof line.outcome !== 'object' || line.outcome === null) continue;
      entries.set(key(line.person, line.sha256, line.recipe), line.outcome);
    }
  }
  return {
    path,
    carried: entries.size,
    lookup: (person, sha, recipe) => entries.get(key(person, sha, recipe)),
    record(person, file, sha, recipe, outcome) {
      const line: Line = { modelId, person, file, sha256: sha, recipe, outcome };
      // Synchronous and unbuffered: what is recorded survives a kill -9 right after.
      appendFileSync(path, `${JSON.stringify(line)}\n`);
      entries.set(key(person, sha, recipe), outcome);
    },
    finish: () => rmSync(path, { force: true }),
  };
}
