import { createSocket, type Socket } from 'node:dgram';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';
import {
  ATTR,
  CODE,
  decode,
  encode,
  signResponse,
  str,
  verifyRequestMessageAuth,
} from '../../src/radius/packet.js';

/** How the misbehaving responder answers an Access-Request. */
export type Misbehaviour =
  'no-message-authenticator' | 'wrong-authenticator' | 'forged-identifier' | 'reject-with-callback';

/**
 * A tiny RADIUS responder of our own for the replies a well-behaved FreeRADIUS never sends:
 * a reply without Message-Authenticator, one signed with the wrong secret, one with an
 * identifier nobody asked for, a Reject that carries a Callback-Number.
 */
export class Responder {
  received = 0;
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(secret: Buffer, mode: Misbehaviour): Promise<Responder> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const r = new Responder(socket, socket.address().port);
    socket.on('message', (msg, rinfo) => {
      r.received++;
      if (!verifyRequestMessageAuth(msg, secret)) return;
      const req = decode(msg);
      const ma = { type: ATTR.MessageAuthenticator, value: Buffer.alloc(16) };
      const accept = [str(ATTR.CallbackNumber, '999'), ma];
      let code: number = CODE.AccessAccept;
      let id = req.identifier;
      let key = secret;
      let attrs = accept;
      if (mode === 'no-message-authenticator') attrs = [str(ATTR.CallbackNumber, '999')];
      if (mode === 'wrong-authenticator') key = Buffer.from('not-the-secret');
      if (mode === 'forged-identifier') id = (req.identifier + 1) & 0xff;
      if (mode === 'reject-with-callback') {
        code = CODE.AccessReject;
        attrs = [ma, str(ATTR.ReplyMessage, 'no'), str(ATTR.CallbackNumber, '999')];
      }
      const out = encode({ code, identifier: id, authenticator: Buffer.alloc(16), attributes: attrs });
      signResponse(out, req.authenticator, key);
      socket.send(out, rinfo.port, rinfo.address);
    });
    return r;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/** A logger whose JSON lines a test can read (and wait for). */
export function capturingLogger(): {
  log: Logger;
  lines: Record<string, unknown>[];
  text: () => string;
  waitFor: (re: RegExp) => Promise<void>;
} {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      raw += chunk.toString();
      for (const l of chunk.toString().split('\n'))
        if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      for (const w of [...waiters]) {
        if (w.re.test(raw)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      cb();
    },
  });
  const log = createLogger({ level: 'debug', destination: dest });
  return {
    log,
    lines,
    text: () => raw,
    waitFor: (re) =>
      re.test(raw) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ re, resolve })),
  };
}
