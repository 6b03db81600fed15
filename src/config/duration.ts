/**
 * Durations in the config file: a bare whole number means milliseconds (the unit
 * every Timing field uses), a string is one or more number+unit parts such as
 * "500ms", "30s", "4m", "1h", "1m30s". Units are required in strings so that "30"
 * can never silently mean 30 ms when someone meant seconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Returns milliseconds, or a reason string when the value is not a duration. */
export function parseDuration(value: unknown): number | { error: string } {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) {
      return { error: 'a bare number is milliseconds and must be a whole number >= 0' };
    }
    return value;
  }
  if (typeof value !== 'string') {
    return { error: 'must be a duration such as "30s", "500ms", "4m", "1h" or a number of milliseconds' };
  }
  const text = value.trim();
  if (text === '') return { error: 'empty duration' };
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m) {
      const rest = text.slice(start);
      const reason = /^\d+(\.\d+)?$/.test(rest)
        ? `"${value}" needs a unit (ms, s, m or h)`
        : `"${value}" is not a duration (use e.g. "30s", "500ms", "4m", "1h", "1m30s")`;
      return { error: reason };
    }
    total += Number(m[1]) * UNIT_MS[m[2] as string]!;
  }
  if (!Number.isInteger(total)) return { error: `"${value}" is not a whole number of milliseconds` };
  if (!Number.isSafeInteger(total)) return { error: `"${value}" is too long` };
  return total;
}

/** The shortest human form, for messages and the docs ("90000" -> "1m30s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
