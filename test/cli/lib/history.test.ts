import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { currentState, seconds, stateTimings, table } from '#cli/lib/history.js';
import { collectVideos, contentTypeOf, localPathOf } from '#cli/lib/pipeline-run.js';
import { tempDir } from '#test/support/videos.js';

const at = (ms: number) => new Date(1_700_000_000_000 + ms);
const entered = (name: string, ms: number) => ({
  type: 'TaskStateEntered',
  timestamp: at(ms),
  stateEnteredEventDetails: { name },
});
const exited = (name: string, ms: number) => ({
  type: 'TaskStateExited',
  timestamp: at(ms),
  stateExitedEventDetails: { name },
});

describe('execution history timings', () => {
  test('per state, concurrent Map iterations summed', () => {
    const events = [
      entered('Split', 0),
      exited('Split', 400),
      entered('Map', 400),
      entered('Recognize', 410),
      entered('Recognize', 420),
      exited('Recognize', 1410),
      exited('Recognize', 1620),
      exited('Map', 1630),
      entered('Result', 1630),
    ];
    const t = stateTimings(events as never, 1_700_000_000_000 + 1700);
    expect(t.map((x) => [x.name, x.count, x.totalMs, x.running])).toEqual([
      ['Split', 1, 400, false],
      ['Map', 1, 1230, false],
      ['Recognize', 2, 2200, false],
      ['Result', 1, 70, true],
    ]);
    expect(t.find((x) => x.name === 'Recognize')!.spanMs).toBe(1210);
    expect(currentState(events as never)).toBe('Result');
  });

  test('table and seconds', () => {
    expect(seconds(1234)).toBe('1.23');
    expect(seconds(12345)).toBe('12.3');
    expect(seconds(undefined)).toBe('-');
    expect(
      table(
        ['a', 'n'],
        [
          ['x', '1.5'],
          ['long', '12.0'],
        ],
      ).split('\n'),
    ).toEqual(['a        n', '----  ----', 'x      1.5', 'long  12.0']);
  });
});

describe('collectVideos', () => {
  test('files by name, folders by relative path, others refused', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'in', 'sub dir'), { recursive: true });
    for (const f of ['in/a.mp4', 'in/sub dir/b.MOV', 'in/notes.txt', 'c.mkv', 'd.txt'])
      writeFileSync(path.join(dir, f), 'x');
    const ext = ['mp4', 'mov', 'mkv'];
    const v = await collectVideos([path.join(dir, 'in'), path.join(dir, 'c.mkv')], ext, 'p/');
    expect(v.map((x) => x.key)).toEqual(['p/a.mp4', 'p/sub dir/b.MOV', 'p/c.mkv']);
    await expect(collectVideos([path.join(dir, 'd.txt')], ext)).rejects.toThrow(/not a video/);
    await expect(collectVideos([path.join(dir, 'missing')], ext)).rejects.toThrow(/no such/);
    await expect(collectVideos([path.join(dir, 'in', 'a.mp4'), path.join(dir, 'in')], ext)).rejects.toThrow(
      /both/,
    );
    expect(contentTypeOf('x.MOV')).toBe('video/quicktime');
    expect(contentTypeOf('x.bin')).toBe('application/octet-stream');
  });

  test('refused before any upload: one output name for two videos, a FIFO, a key past 1,024 bytes', async () => {
    const dir = tempDir();
    for (const f of ['talk.mp4', 'talk.mov', 'A.mp4', 'A.MP4']) writeFileSync(path.join(dir, f), 'x');
    const ext = ['mp4', 'mov'];
    const at = (f: string) => path.join(dir, f);
    await expect(collectVideos([at('talk.mp4'), at('talk.mov')], ext)).rejects.toThrow(
      /both be answered as talk\.txt/,
    );
    await expect(collectVideos([at('A.mp4'), at('A.MP4')], ext)).rejects.toThrow(
      /both be answered as A\.txt/,
    );
    execFileSync('mkfifo', [at('pipe.mp4')]);
    await expect(collectVideos([at('pipe.mp4')], ext)).rejects.toThrow(/pipe\.mp4: not a regular file/);
    await expect(collectVideos([at('A.mp4')], ext, 'p/'.repeat(511))).rejects.toThrow(
      /1027 bytes; S3 keys hold 1024/,
    );
    expect((await collectVideos([at('A.mp4')], ext, 'p/'.repeat(509))).map((v) => v.key.length)).toEqual([
      1023,
    ]);
  });
});

describe('outputs copied to a folder', () => {
  test('keys keep their folders but never leave the folder', () => {
    expect(localPathOf('/out', 'a/b.txt')).toBe('/out/a/b.txt');
    expect(localPathOf('/out', '../../amy.txt')).toBe('/out/%2E%2E/%2E%2E/amy.txt');
    expect(localPathOf('/out', './/x/../y.json')).toBe('/out/%2E/%2F/x/%2E%2E/y.json');
    expect(localPathOf('out', '/abs.txt')).toBe('out/%2F/abs.txt');
    // Only whole `.` and `..` segments lead out: a name that starts with dots is a name.
    expect(localPathOf('/out', '..notes.txt')).toBe('/out/..notes.txt');
  });
});
