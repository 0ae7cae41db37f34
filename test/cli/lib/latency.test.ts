import { latencyStats, median, percentile } from '#cli/lib/latency.js';
import { parseDuration, parseRate } from '#cli/lib/options.js';

describe('latency stats', () => {
  test('min / median / p95 / max over 1..100', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // unsorted on purpose
    expect(latencyStats(values)).toEqual({ count: 100, min: 1, median: 50.5, p95: 95, max: 100, mean: 50.5 });
  });

  test('nearest-rank percentiles are values of the set', () => {
    const sorted = [10, 20, 30, 40, 50];
    expect(percentile(sorted, 0)).toBe(10);
    expect(percentile(sorted, 20)).toBe(10);
    expect(percentile(sorted, 21)).toBe(20);
    expect(percentile(sorted, 95)).toBe(50);
    expect(percentile(sorted, 100)).toBe(50);
    expect(() => percentile([], 50)).toThrow(/no values/);
    expect(() => percentile(sorted, 101)).toThrow(/outside/);
  });

  test('median of odd and even counts', () => {
    expect(median([1, 2, 9])).toBe(2);
    expect(median([1, 2, 4, 9])).toBe(3);
  });

  test('one value, and no finite values', () => {
    expect(latencyStats([1234])).toMatchObject({ min: 1234, median: 1234, p95: 1234, max: 1234 });
    expect(latencyStats([])).toBeUndefined();
    expect(latencyStats([NaN, Infinity])).toBeUndefined();
  });

  test('durations and rates', () => {
    expect(parseDuration('300s')).toBe(300);
    expect(parseDuration('300')).toBe(300);
    expect(parseDuration('5m')).toBe(300);
    expect(parseDuration('1.5 min')).toBe(90);
    expect(parseDuration('250ms')).toBe(0.25);
    expect(parseDuration('1h')).toBe(3600);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
    expect(() => parseDuration('0s')).toThrow(/positive/);
    expect(parseRate('1')).toBe(1);
    expect(parseRate('2/s')).toBe(2);
    expect(parseRate('0.5/s')).toBe(0.5);
    expect(parseRate('30/min')).toBe(0.5);
    expect(() => parseRate('fast')).toThrow(/not a rate/);
    expect(() => parseRate('0')).toThrow(/positive/);
  });
});
