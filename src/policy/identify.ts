import type { CallbackEntry, PppUser } from '../config/types.js';

/** Who a name typed at `login:` stands for. */
export type Identity =
  | { kind: 'callback'; entry: CallbackEntry }
  | { kind: 'ppp'; user: PppUser }
  | { kind: 'unknown'; name: string };

/**
 * Looks a login name up. Names compare exactly (case matters, as in pap-secrets).
 * A call-back entry wins over a PPP user of the same name; config validation
 * should refuse such clashes (see nameClashes) so the order never matters.
 */
export function identify(cfg: { callbacks: CallbackEntry[]; pppUsers: PppUser[] }, name: string): Identity {
  const entry = cfg.callbacks.find((c) => c.name === name);
  if (entry) return { kind: 'callback', entry };
  const user = cfg.pppUsers.find((u) => u.name === name);
  if (user) return { kind: 'ppp', user };
  return { kind: 'unknown', name };
}

/** The hash the typed secret is checked against; undefined makes verifySecret use its dummy. */
export function secretHashFor(id: Identity): string | undefined {
  switch (id.kind) {
    case 'callback':
      return id.entry.pinHash;
    case 'ppp':
      return id.user.passwordHash;
    case 'unknown':
      return undefined;
  }
}

/**
 * Whether to prompt for a secret. Unknown names are asked too, so a caller cannot
 * tell a wrong name from a wrong password. Only a call-back entry without a PIN
 * skips the prompt (its protection is the fixed number or the number rules).
 */
export function asksSecret(id: Identity): boolean {
  return id.kind === 'callback' ? id.entry.pinHash !== undefined : true;
}

/** Names used by more than one call-back entry or PPP user, for config validation. */
export function nameClashes(cfg: { callbacks: CallbackEntry[]; pppUsers: PppUser[] }): string[] {
  const seen = new Set<string>();
  const clashes = new Set<string>();
  for (const name of [...cfg.callbacks.map((c) => c.name), ...cfg.pppUsers.map((u) => u.name)]) {
    if (seen.has(name)) clashes.add(name);
    seen.add(name);
  }
  return [...clashes];
}
