import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['4m', 240_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h0m5s', 3_605_000],
    ['1.5s', 1_500],
    [' 2s ', 2_000],
    ['0s', 0],
    [250, 250],
    [0, 0],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['30', /needs a unit/],
    ['', /empty/],
    ['5 s', /not a duration/],
    ['5d', /not a duration/],
    ['s', /not a duration/],
    ['-5s', /not a duration/],
    ['0.5ms', /whole number of milliseconds/],
    [-1, /whole number >= 0/],
    [1.5, /whole number >= 0/],
    [true, /must be a duration/],
    [['1s'], /must be a duration/],
  ])('%j is refused', (value, reason) => {
    const r = parseDuration(value);
    expect(typeof r).toBe('object');
    expect((r as { error: string }).error).toMatch(reason);
  });

  it('reads back what formatDuration writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
    expect(formatDuration(90_500)).toBe('1m30s500ms');
  });
});
