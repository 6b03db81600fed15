import type { Exchange, SimModem } from '../../src/sim/index.js';
import { Terminal } from '../../src/sim/terminal.js';

/** The two modems most simulator tests use: a (5551001) calls b (5551002). */
export async function addPair(ex: Exchange): Promise<{ a: SimModem; b: SimModem }> {
  const a = await ex.addModem({ number: '5551001' });
  const b = await ex.addModem({ number: '5551002' });
  return { a, b };
}

/** DTEs a test opened, closed together in afterEach (before the exchange goes). */
export function dteSet(): { dte(m: SimModem): Promise<Terminal>; closeAll(): Promise<void> } {
  const open: Terminal[] = [];
  return {
    dte: async (m) => {
      const d = await Terminal.open(m.ttyPath);
      open.push(d);
      return d;
    },
    closeAll: async () => {
      for (const d of open.splice(0)) await d.close();
    },
  };
}
