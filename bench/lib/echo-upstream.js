// Bench upstream (own process): answers every request with the same ~100-byte body on a keep-alive
// connection, and echoes X-Auth-User-Id back as X-Seen-User so the bench can check identity injection.
// Prints {"port":N} on stdout once listening. Usage: node bench/lib/echo-upstream.js
import { createServer } from 'node:http';

const BODY = Buffer.from('{"ok":true,"service":"bench-echo","note":"fixed body of about one hundred bytes for every scenario"}');
const LENGTH = String(BODY.length);

const server = createServer((req, res) => {
  const user = req.headers['x-auth-user-id'];
  // Drain any request body before answering (keep-alive stays usable).
  req.resume();
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': LENGTH,
    'x-seen-user': typeof user === 'string' ? user : '-',
  });
  res.end(BODY);
});
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
