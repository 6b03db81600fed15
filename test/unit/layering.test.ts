import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The architecture as a test (docs/architecture.md): every import in src points down the
 * layers, no module imports itself back through others, and what `callbackd run` loads
 * holds no simulator, demo or test equipment. Reads the sources' import statements; it
 * does not run them.
 */

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Higher may import lower. Areas are src's folders, and its top-level files by name. */
const RANK: Record<string, number> = {
  cli: 8,
  demo: 7, // the daemon and the simulator in one process
  daemon: 6,
  session: 5,
  sim: 5,
  modem: 4,
  login: 4,
  policy: 4,
  ppp: 4,
  radius: 4,
  serial: 3,
  config: 2,
  'call-end': 1,
  errors: 1,
  log: 1,
  'log-tap': 1,
  timing: 1,
  wait: 1,
  'worker-class': 1,
};

/** Sideways imports between areas of one rank, each with its reason. */
const SIDEWAYS = new Set([
  'radius->policy', // RADIUS answers become the policy's Identity and rules
  'config->timing', // the [timing] table is validated where it is defined
  'wait->errors', // a deadline passing is a CallbackdError
  'log->errors', // errors carry their code into the log
  'call-end->errors',
  'log-tap->log',
]);

/** Test equipment: only the command list, the demo, and the tools may load it. */
const EQUIPMENT = new Set(['sim', 'demo']);

interface Edge {
  from: string;
  to: string;
  dynamic: boolean;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s*'([^']+)'/g;

function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const edges: Edge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec === undefined) continue;
    // `import type` is erased at build time: it constrains nothing at run time, but it
    // still has to point down, so it is kept for the layering and left out of the closure.
    const typeOnly = /^\s*(?:import|export)\s+type\s/.test(m[0].trimStart());
    const to = spec.startsWith('.') ? path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts') : spec;
    edges.push({ from: file, to, dynamic: m[2] !== undefined || typeOnly });
  }
  return edges;
}

function areaOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0]! : rel[0]!.replace(/\.ts$/, '');
}

const FILES = tsFiles(SRC);
const EDGES = FILES.flatMap(importsOf);
const LOCAL = EDGES.filter((e) => e.to.startsWith(SRC + path.sep));
const short = (f: string) => path.relative(SRC, f);

function upward(edges: Edge[]): string[] {
  const wrong: string[] = [];
  for (const e of edges) {
    const a = areaOf(e.from);
    const b = areaOf(e.to);
    if (a === b) continue;
    const ok = RANK[a]! > RANK[b]! || (RANK[a] === RANK[b] && SIDEWAYS.has(`${a}->${b}`));
    if (!ok) wrong.push(`${short(e.from)} -> ${short(e.to)} (${a} ${RANK[a]} -> ${b} ${RANK[b]})`);
  }
  return wrong;
}

describe('layering of src', () => {
  it('knows every area in src', () => {
    const unknown = [...new Set(FILES.map(areaOf))].filter((a) => !(a in RANK));
    expect(unknown, 'give new areas a rank here and a line in docs/architecture.md').toEqual([]);
  });

  it('imports only point down (or sideways where the reason is written down)', () => {
    expect(upward(LOCAL)).toEqual([]);
  });

  it('only the command list and the demo load the simulator and the demo', () => {
    const wrong = LOCAL.filter((e) => {
      const a = areaOf(e.from);
      const b = areaOf(e.to);
      return EQUIPMENT.has(b) && a !== b && a !== 'cli' && !(a === 'demo' && b === 'sim');
    }).map((e) => `${short(e.from)} -> ${short(e.to)}`);
    expect(wrong).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const next = new Map<string, string[]>();
    for (const e of LOCAL) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
    // Tarjan's strongly connected components: a component of more than one file is a cycle.
    let index = 0;
    const idx = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const on = new Set<string>();
    const cycles: string[][] = [];
    const visit = (v: string): void => {
      idx.set(v, index);
      low.set(v, index++);
      stack.push(v);
      on.add(v);
      for (const w of next.get(v) ?? []) {
        if (!idx.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          on.delete(w);
          comp.push(short(w));
        } while (w !== v);
        if (comp.length > 1) cycles.push(comp.sort());
      }
    };
    for (const f of FILES) if (!idx.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('`callbackd run` loads no simulator, demo, node-pty or other command', () => {
    // The static closure of what cli.ts's `run` entry loads (dynamic imports are followed
    // only from cli.ts's run entry itself; the daemon's own lazy loads are listed below).
    const start = path.join(SRC, 'daemon', 'commands.ts');
    const seen = new Set<string>([start]);
    const packages = new Set<string>();
    const todo = [start];
    while (todo.length > 0) {
      const f = todo.pop()!;
      for (const e of EDGES.filter((x) => x.from === f && !x.dynamic)) {
        if (!e.to.startsWith('/'))
          packages.add(e.to.split('/')[0]!.startsWith('@') ? e.to : e.to.split('/')[0]!);
        else if (!seen.has(e.to)) {
          seen.add(e.to);
          todo.push(e.to);
        }
      }
    }
    expect(seen.size, 'the closure was followed').toBeGreaterThan(30);
    const areas = new Set([...seen].map(areaOf));
    expect(areas).toContain('session');
    expect([...areas].filter((a) => EQUIPMENT.has(a) || a === 'cli')).toEqual([]);
    expect([...packages].filter((p) => p === 'node-pty' || p === 'fast-check' || p === 'vitest')).toEqual([]);
    expect(
      [...seen]
        .map(short)
        .filter((f) => /(^|\/)(command|commands)\.ts$/.test(f) && f !== 'daemon/commands.ts'),
    ).toEqual([]);
  });

  it('catches a wrong import (the check itself can fail)', () => {
    const up: Edge = {
      from: path.join(SRC, 'serial', 'x.ts'),
      to: path.join(SRC, 'session', 'y.ts'),
      dynamic: false,
    };
    const side: Edge = {
      from: path.join(SRC, 'login', 'x.ts'),
      to: path.join(SRC, 'policy', 'y.ts'),
      dynamic: false,
    };
    expect(upward([up, side])).toHaveLength(2);
    expect(
      importsOf(path.join(SRC, 'cli.ts')).some((e) => e.dynamic && e.to.endsWith('daemon/commands.ts')),
    ).toBe(true);
  });
});
