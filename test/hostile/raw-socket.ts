// Raw TCP conversations with the server for hostile-input tests: exact bytes out (no client library
// repairs them), everything the server sends back, and how the connection ended.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RawExchange {
  /** Status of the first response (0 when the server sent nothing). */
  status: number;
  /** Every status line the server sent on this connection, in order. */
  statuses: number[];
  headers: Record<string, string>;
  body: string;
  raw: string;
  /** The server closed (or reset) the connection before our own deadline. */
  closedByServer: boolean;
}

export interface RawOptions {
  /** Written one after the other, `gapMs` apart (slowloris-style trickle). */
  chunks: Array<string | Buffer>;
  gapMs?: number;
  /** Give up (and destroy the socket ourselves) after this long. */
  deadlineMs?: number;
  /** Stop writing as soon as the server closed the connection. */
}

export function rawExchange(port: number, options: RawOptions): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let closed = false;
    let closedByServer = false;
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => undefined);
    const deadline = setTimeout(() => socket.destroy(), options.deadlineMs ?? 15_000);
    socket.on('close', () => {
      closed = true;
      clearTimeout(deadline);
      const raw = Buffer.concat(received).toString('latin1');
      const split = raw.indexOf('\r\n\r\n');
      const head = split === -1 ? raw : raw.slice(0, split);
      const [statusLine, ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ status: Number(statusLine?.split(' ')[1] ?? 0) || 0, statuses, headers, body: split === -1 ? '' : raw.slice(split + 4), raw, closedByServer });
    });
    socket.on('end', () => {
      closedByServer = true;
      socket.end();
    });
    socket.once('connect', async () => {
      for (const chunk of options.chunks) {
        if (closed || closedByServer || socket.destroyed) break;
        socket.write(chunk);
        if (options.gapMs) await sleep(options.gapMs);
      }
    });
    // A reset from the server also counts as the server closing.
    socket.on('error', () => {
      closedByServer = true;
    });
  });
}

/** One complete request (headers joined with CRLF, blank line added). */
export function requestBytes(lines: string[], body: string | Buffer = ''): Buffer {
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), typeof body === 'string' ? Buffer.from(body, 'latin1') : body]);
}
