// Opens N keep-alive client connections to HOST:PORT in batches; each sends one GET and, after its
// response, stays open and idle. Prints {"open":N,"failed":N} when all are open, then waits for a line on
// stdin ("count" → {"open":N} still open; "close" → closes everything and exits).
// Usage: node bench/lib/idle-connections.js HOST PORT N PATH
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [host, portText, nText, path = '/healthz'] = process.argv.slice(2);
const port = Number(portText);
const n = Number(nText);
const BATCH = 500;
const sockets = new Set();
let failed = 0;
const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: keep-alive\r\n\r\n`);

function open() {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      if (ok) sockets.add(s);
      else {
        failed++;
        s.destroy();
      }
      resolve();
    };
    s.setNoDelay(true);
    s.once('connect', () => s.write(request));
    // The whole response fits in one chunk on loopback; the first data means the request was served.
    s.once('data', (chunk) => finish(chunk.toString('latin1', 0, 12).startsWith('HTTP/1.1 2')));
    s.once('error', () => finish(false));
    s.once('close', () => {
      sockets.delete(s);
      finish(false);
    });
    s.on('data', () => undefined);
  });
}

for (let i = 0; i < n; i += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, open));
}
process.stdout.write(`${JSON.stringify({ open: sockets.size, failed })}\n`);
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line === 'count') process.stdout.write(`${JSON.stringify({ open: sockets.size })}\n`);
  else {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
