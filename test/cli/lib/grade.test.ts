/** The grader's judgement on hand-made listings (no S3, no mocks). */
import {
  allowedFrameKeys,
  answerOf,
  grade,
  keysToRead,
  parseExpectedCsv,
  type BucketListing,
  type GradeInput,
  type ListedObject,
} from '#cli/lib/grade.js';

const T0 = Date.parse('2025-01-01T12:00:00Z');
const obj = (key: string, atSeconds: number, size = 10): ListedObject => ({
  key,
  size,
  lastModified: T0 + atSeconds * 1000,
});
const bucket = (name: string, objects: ListedObject[], exists = true): BucketListing => ({
  name,
  exists,
  objects,
});

const PEOPLE = ['amy', 'raj', 'penny'];
const expected = parseExpectedCsv(
  ['video,expected_name', ...PEOPLE.map((p, i) => `test_0${i}.mp4,${p}`)].join('\n'),
);

/** A clean cse546-p2 run: three videos uploaded at 0..2 s, outputs at 10..12 s. */
function cleanRun(): GradeInput {
  return {
    buckets: {
      input: bucket(
        'p-input',
        PEOPLE.map((_, i) => obj(`test_0${i}.mp4`, i, 100_000)),
      ),
      stage1: bucket(
        'p-stage-1',
        PEOPLE.map((_, i) => obj(`test_0${i}.jpg`, 5 + i)),
      ),
      output: bucket(
        'p-output',
        PEOPLE.map((p, i) => obj(`test_0${i}.txt`, 10 + i, p.length)),
      ),
    },
    texts: new Map(PEOPLE.map((p, i) => [`test_0${i}.txt`, p])),
    expected,
    profile: 'cse546-p2',
    writeDetail: false,
    maxFrames: 100,
    withinSeconds: 300,
  };
}

const byId = (r: ReturnType<typeof grade>, id: string) => r.checks.find((c) => c.id === id)!;

describe('expected CSV', () => {
  test('header, quotes, CRLF, comments, blank lines, bare stems', () => {
    const rows = parseExpectedCsv(
      '\uFEFFvideo,expected_name\r\ntest_00.mp4, amy \r\n\r\n# a comment\r\n"my, clip.mp4","Smith, J."\r\ntest_02,raj',
    );
    expect(rows.map((r) => [r.video, r.stem, r.name, r.line])).toEqual([
      ['test_00.mp4', 'test_00', 'amy', 2],
      ['my, clip.mp4', 'my, clip', 'Smith, J.', 5],
      ['test_02', 'test_02', 'raj', 6],
    ]);
  });

  test('no header is fine', () => {
    expect(parseExpectedCsv('a.mp4,amy\nb.mp4,raj\n').map((r) => r.name)).toEqual(['amy', 'raj']);
  });

  test('malformed files are refused with the line', () => {
    expect(() => parseExpectedCsv('video,expected_name\ntest_00.mp4\n')).toThrow(/line 2/);
    expect(() => parseExpectedCsv('test_00.mp4,\n')).toThrow(/no expected name/);
    expect(() => parseExpectedCsv('test_00.mp4,amy\ntest_00.mov,raj\n')).toThrow(
      /line 2: test_00.mov and test_00.mp4 \(line 1\) would both write test_00.txt/,
    );
    expect(() => parseExpectedCsv('video,expected_name\n')).toThrow(/no videos/);
    expect(() => parseExpectedCsv('"test_00.mp4,amy\n')).toThrow(/unterminated/);
  });
});

describe('grade', () => {
  test('a clean run passes every check: 100/100', () => {
    const r = grade(cleanRun());
    expect(r.checks.map((c) => [c.id, c.status])).toEqual([
      ['Test_1_a', 'PASS'],
      ['Test_1_b', 'PASS'],
      ['Test_1_c', 'PASS'],
      ['Test_2', 'PASS'],
      ['Test_3', 'PASS'],
      ['Test_4', 'PASS'],
      ['Test_5', 'PASS'],
      ['Test_6', 'PASS'],
    ]);
    expect(r).toMatchObject({ score: 100, total: 100, passed: true });
    expect(r.timing).toMatchObject({ from: 'first input object', start: T0, seconds: 12 });
    expect(byId(r, 'Test_6').reason).toMatch(/12 s \(limit 300 s/);
    expect(byId(r, 'Test_2').reason).toMatch(/cse546-p2 layout, e.g. test_00.jpg/);
    expect(r.videos.map((v) => [v.video, v.got, v.correct, v.seconds])).toEqual([
      ['test_00.mp4', 'amy', true, 10],
      ['test_01.mp4', 'raj', true, 11],
      ['test_02.mp4', 'penny', true, 12],
    ]);
  });

  test('a wrong name and a missing output fail, with reasons and partial scores', () => {
    const run = cleanRun();
    const texts = new Map([
      ['test_00.txt', 'amy'],
      ['test_01.txt', 'sheldon'],
    ]);
    run.texts = texts;
    run.buckets.output.objects = run.buckets.output.objects.filter((o) => o.key !== 'test_02.txt');
    run.buckets.output.objects.push(obj('errors/test_02.json', 12));
    texts.set(
      'errors/test_02.json',
      JSON.stringify({ stage: 'split', error: 'Facerec.BadInput', reason: 'truncated' }),
    );
    const r = grade(run);
    expect(r.passed).toBe(false);
    const t3 = byId(r, 'Test_3');
    expect(t3).toMatchObject({ status: 'FAIL', score: 13.3 });
    expect(t3.details).toEqual([
      'test_02.txt: missing; the pipeline recorded a failure (errors/test_02.json: split: Facerec.BadInput: truncated)',
    ]);
    const t4 = byId(r, 'Test_4');
    expect(t4).toMatchObject({ status: 'FAIL', score: 10 });
    expect(t4.reason).toMatch(/^1\/3 correct/);
    expect(t4.details).toEqual([
      'test_01.txt: "sheldon", expected "raj"',
      'test_02.txt: missing (expected "penny")',
    ]);
    const t5 = byId(r, 'Test_5');
    expect(t5.status).toBe('FAIL');
    expect(t5.details).toEqual([
      'output errors/test_02.json: error record (split: Facerec.BadInput: truncated)',
    ]);
    expect(byId(r, 'Test_6')).toMatchObject({ status: 'FAIL', score: 0 });
    expect(byId(r, 'Test_6').reason).toMatch(/1 output missing/);
    expect(r.score).toBe(15 + 15 + 13.3 + 10);
  });

  test('the whole content counts: a trailing newline is wrong', () => {
    const run = cleanRun();
    run.texts = new Map(run.texts);
    (run.texts as Map<string, string>).set('test_00.txt', 'amy\n');
    const t4 = byId(grade(run), 'Test_4');
    expect(t4.status).toBe('FAIL');
    expect(t4.details[0]).toMatch(/"amy\\n" has whitespace around the name/);
  });

  test('the default profile lists everyone, one name a line: its first line (most screen time) is the answer', () => {
    expect(answerOf('default', 'amy\nraj')).toBe('amy');
    expect(answerOf('cse546-p2', 'amy\nraj')).toBe('amy\nraj');
    expect(answerOf('cse546-p1', undefined)).toBeUndefined();
    const run = cleanRun();
    run.texts = new Map(run.texts);
    (run.texts as Map<string, string>).set('test_00.txt', 'amy\nraj');
    // cse546: the whole content, as the course's grader reads it.
    expect(byId(grade(run), 'Test_4').status).toBe('FAIL');
    const t4 = byId(grade({ ...run, profile: 'default' }), 'Test_4');
    expect(t4).toMatchObject({
      status: 'PASS',
      title: 'each output names the expected person first (most screen time)',
    });
    (run.texts as Map<string, string>).set('test_00.txt', 'raj\namy');
    expect(byId(grade({ ...run, profile: 'default' }), 'Test_4').status).toBe('FAIL');
  });

  test('missing buckets fail their checks', () => {
    const run = cleanRun();
    run.buckets.stage1 = bucket('p-stage-1', [], false);
    const r = grade(run);
    expect(byId(r, 'Test_1_b')).toMatchObject({ status: 'FAIL', score: 0 });
    expect(byId(r, 'Test_1_b').reason).toMatch(/p-stage-1 is missing/);
    expect(byId(r, 'Test_2').reason).toMatch(/p-stage-1 is missing/);
    expect(byId(r, 'Test_1_a').status).toBe('PASS');
  });

  test('stage-1 keys outside the profile, and frames missing', () => {
    const run = cleanRun();
    run.buckets.stage1.objects = [
      obj('test_00.jpg', 5),
      obj('test_01/output-00.jpg', 5), // the cse546-p1 layout
      obj('random.png', 5),
    ];
    const t2 = byId(grade(run), 'Test_2');
    expect(t2.status).toBe('FAIL');
    expect(t2.details).toEqual([
      'test_01/output-00.jpg: not a cse546-p2 frame key of any uploaded or expected video',
      'random.png: not a cse546-p2 frame key of any uploaded or expected video',
      'test_01.mp4: no frame (expected test_01.jpg)',
      'test_02.mp4: no frame (expected test_02.jpg)',
    ]);
  });

  test('the other profiles: numbered frames under <stem>/', () => {
    const run = cleanRun();
    run.profile = 'cse546-p1';
    run.buckets.stage1.objects = [
      obj('test_00/output-00.jpg', 5),
      obj('test_01/output-00.jpg', 5),
      obj('test_01/output-01.jpg', 5),
      obj('test_02/output-00.jpg', 5),
    ];
    expect(byId(grade(run), 'Test_2').status).toBe('PASS');
    run.profile = 'default';
    expect(byId(grade(run), 'Test_2').status).toBe('FAIL');
    run.buckets.stage1.objects = [
      obj('test_00/frame-0000.jpg', 5),
      obj('test_01/frame-0009.jpg', 5),
      obj('test_02/frame-0099.jpg', 5),
    ];
    expect(byId(grade(run), 'Test_2').status).toBe('PASS');
    // Beyond the frame cap: not a key the profile writes.
    run.buckets.stage1.objects.push(obj('test_02/frame-0100.jpg', 5));
    expect(byId(grade(run), 'Test_2').details).toEqual([
      'test_02/frame-0100.jpg: not a default frame key of any uploaded or expected video',
    ]);
  });

  test('unexpected objects in each bucket; the detail JSON only where the profile writes it', () => {
    const run = cleanRun();
    run.buckets.input.objects.push(obj('notes.txt', 0), obj('test_09.mp4', 0));
    run.buckets.stage1.objects.push(obj('test_09.jpg', 5));
    run.buckets.output.objects.push(obj('test_09.txt', 10), obj('test_00.json', 10));
    let t5 = byId(grade(run), 'Test_5');
    expect(t5.details).toEqual([
      'output test_09.txt: not an output of an expected video',
      'output test_00.json: not an output of an expected video',
      'stage-1 test_09.jpg: frame of a video that is not expected',
      'input notes.txt: not an expected video',
      'input test_09.mp4: not an expected video',
    ]);
    run.writeDetail = true;
    t5 = byId(grade(run), 'Test_5');
    expect(t5.details).not.toContain('output test_00.json: not an output of an expected video');
  });

  test('two uploads sharing an output fail "exactly one"', () => {
    const run = cleanRun();
    run.buckets.input.objects.push(obj('test_00.mov', 0));
    const r = grade(run);
    expect(byId(r, 'Test_3').details).toEqual([
      'test_00.txt: 2 uploads share this output (test_00.mp4, test_00.mov)',
    ]);
  });

  test('time limit: late outputs, leftovers from an earlier run, --since', () => {
    const run = cleanRun();
    run.withinSeconds = 11;
    let t6 = byId(grade(run), 'Test_6');
    expect(t6.status).toBe('FAIL');
    expect(t6.details).toEqual(['test_02.txt: 12 s after the start']);
    expect(t6.reason).toMatch(/1 output late/);

    run.withinSeconds = 300;
    run.buckets.output.objects[0] = obj('test_00.txt', -3600);
    t6 = byId(grade(run), 'Test_6');
    expect(t6.status).toBe('FAIL');
    expect(t6.details[0]).toMatch(
      /test_00.txt: written 2025-01-01T11:00:00Z, before the start .* earlier run/,
    );

    // --since: the caller's clock; LastModified is whole seconds (1 s of tolerance).
    const fresh = cleanRun();
    fresh.since = T0 + 10_500;
    const r = grade(fresh);
    expect(r.timing).toMatchObject({ from: 'since', seconds: 1.5 });
    expect(byId(r, 'Test_6').status).toBe('PASS');
    fresh.since = T0 + 11_500;
    expect(byId(grade(fresh), 'Test_6').status).toBe('FAIL');
  });

  test('nothing to time from', () => {
    const run = cleanRun();
    run.buckets.input.objects = [];
    expect(byId(grade(run), 'Test_6').reason).toMatch(/no input objects to time from/);
  });

  test('keys to read: the expected outputs and error records present', () => {
    const out = bucket('o', [obj('test_00.txt', 1), obj('errors/test_01.json', 1), obj('test_09.txt', 1)]);
    expect(keysToRead(expected, out)).toEqual(['test_00.txt', 'errors/test_01.json']);
  });

  test('allowed frame keys come from the layout', () => {
    expect([...allowedFrameKeys('cse546-p2', ['a/b'], 100).keys()]).toEqual(['a/b.jpg']);
    expect(allowedFrameKeys('cse546-p1', ['x'], 10).get('x/output-09.jpg')).toBe('x');
    expect(allowedFrameKeys('default', ['x'], 3).size).toBe(3);
  });
});
