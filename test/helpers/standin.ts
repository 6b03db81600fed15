import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * The pppd stand-in is one self-contained TypeScript file; tests transpile it into
 * their scratch folder and run it with node, so they need no build step.
 */
export function writeStandin(dir: string): string {
  const src = readFileSync(new URL('../../src/demo/pppd-standin.ts', import.meta.url), 'utf8');
  const out = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = join(dir, 'pppd-standin.mjs');
  writeFileSync(file, out.outputText);
  return file;
}
