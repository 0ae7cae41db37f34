/** The pure parts of `facerec workload`: pacing flags and what each poll lists. */
import { commonPrefix, listingPrefixes, pacingOf } from '#cli/lib/workload.js';

describe('workload helpers', () => {
  test('pacing: one a second by default, a rate, or a number in flight', () => {
    expect(pacingOf({})).toEqual({ kind: 'rate', perSecond: 1 });
    expect(pacingOf({ rate: '4/s' })).toEqual({ kind: 'rate', perSecond: 4 });
    expect(pacingOf({ concurrency: 8 })).toEqual({ kind: 'concurrency', inFlight: 8 });
    expect(() => pacingOf({ rate: '2', concurrency: 8 })).toThrow(/exclude each other/);
    expect(() => pacingOf({ concurrency: 0 })).toThrow(/whole number/);
    expect(() => pacingOf({ concurrency: 1.5 })).toThrow(/whole number/);
  });

  test('common prefix', () => {
    expect(commonPrefix([])).toBe('');
    expect(commonPrefix(['test_45.txt'])).toBe('test_45.txt');
    expect(commonPrefix(['test_45.txt', 'test_46.txt', 'test_4x.txt'])).toBe('test_4');
    expect(commonPrefix(['a.txt', 'b.txt'])).toBe('');
  });

  test('each poll lists the awaited outputs and error records, narrowly when it can', () => {
    expect(listingPrefixes([])).toEqual([]);
    expect(
      listingPrefixes(['test_45.txt', 'errors/test_45.json', 'test_46.txt', 'errors/test_46.json']),
    ).toEqual(['test_4', 'errors/test_4']);
    // Nothing in common outside errors/: the whole bucket, once (it holds errors/ too).
    expect(listingPrefixes(['a.txt', 'errors/a.json', 'b.txt', 'errors/b.json'])).toEqual(['']);
  });
});
