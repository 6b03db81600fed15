import type { Config } from './types.js';
import type { Problem } from './reader.js';

/**
 * Checks that span sections: names that must be unique or must refer to something.
 * Paths index the arrays as the file does (`lines[1].name`), so the locator finds them.
 */
export function crossCheck(cfg: Omit<Config, 'source'>): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, reason: string): void => {
    problems.push({ path, reason });
  };

  if (cfg.lines.length === 0) add('lines', 'at least one [[lines]] table is needed');
  duplicates(cfg.lines.map((l) => l.name)).forEach((i) =>
    add(
      `lines[${i}].name`,
      `line name "${cfg.lines[i]?.name}" is used twice (names default to the device's base name)`,
    ),
  );
  duplicates(cfg.lines.map((l) => l.device)).forEach((i) =>
    add(`lines[${i}].device`, `device ${cfg.lines[i]?.device} is used by two lines`),
  );
  duplicates(cfg.callbacks.map((c) => c.name)).forEach((i) =>
    add(`callbacks[${i}].name`, `call-back entry "${cfg.callbacks[i]?.name}" is defined twice`),
  );
  duplicates(cfg.pppUsers.map((u) => u.name)).forEach((i) =>
    add(`ppp_users[${i}].name`, `PPP user "${cfg.pppUsers[i]?.name}" is defined twice`),
  );

  // One typed name must mean one thing at the login prompt.
  const pppNames = new Set(cfg.pppUsers.map((u) => u.name));
  cfg.callbacks.forEach((c, i) => {
    if (c.name !== '' && pppNames.has(c.name)) {
      add(`callbacks[${i}].name`, `"${c.name}" is also a PPP user; a login name must be one or the other`);
    }
  });

  const lines = new Map(cfg.lines.map((l) => [l.name, l]));
  cfg.callbacks.forEach((c, i) => {
    c.dialLines.forEach((name, j) => {
      const line = lines.get(name);
      if (!line) add(`callbacks[${i}].dial_lines[${j}]`, `no line is named "${name}"`);
      else if (!line.dialOut) add(`callbacks[${i}].dial_lines[${j}]`, `line "${name}" has dial_out = false`);
    });
    // With no dial_lines the call-back goes out on the line the call came in on (a
    // ring-back's ring comes in on any line, answering or not).
    const takes = (l: (typeof cfg.lines)[number]): boolean => l.answer || c.trigger === 'ring';
    if (c.dialLines.length === 0 && cfg.lines.length > 0 && !cfg.lines.some((l) => takes(l) && l.dialOut)) {
      add(`callbacks[${i}].dial_lines`, 'no line both answers and dials out; name the dial-out lines here');
    }
  });
  ringOverlaps(cfg).forEach(({ i, j, a, b }) =>
    add(
      `callbacks[${j}].caller_id`,
      `caller ID "${b}" overlaps "${a}" of ring-back entry "${cfg.callbacks[i]?.name}": one ring, one entry`,
    ),
  );
  return problems;
}

/** Ring-back entries that would both accept one caller ID (a listed prefix of another's). */
function ringOverlaps(cfg: Omit<Config, 'source'>): { i: number; j: number; a: string; b: string }[] {
  const listed = cfg.callbacks.map((c) =>
    c.trigger === 'ring' ? c.callerId.map((t) => t.trim()).filter((t) => /^\+?[0-9]+$/.test(t)) : [],
  );
  const out: { i: number; j: number; a: string; b: string }[] = [];
  listed.forEach((mine, j) => {
    for (let i = 0; i < j; i++) {
      for (const b of mine) {
        const a = listed[i]!.find((t) => t.startsWith(b) || b.startsWith(t));
        if (a !== undefined) {
          out.push({ i, j, a, b });
          return;
        }
      }
    }
  });
  return out;
}

/** Indexes of the second and later occurrences of each value. */
function duplicates(values: string[]): number[] {
  const seen = new Set<string>();
  const out: number[] = [];
  values.forEach((v, i) => {
    if (v === '') return;
    if (seen.has(v)) out.push(i);
    seen.add(v);
  });
  return out;
}
