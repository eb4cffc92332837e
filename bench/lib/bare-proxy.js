// Bench "Node floor" (own process): a bare http-proxy with a keep-alive agent and nothing else — what any
// Node reverse proxy costs before authentication. Prints {"port":N}. Usage: node bench/lib/bare-proxy.js URL
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';

const target = process.argv[2];
if (!target) throw new TypeError('usage: bare-proxy.js UPSTREAM_URL');
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const proxy = httpProxy.createProxyServer({ target, agent });
proxy.on('error', (_err, _req, res) => {
  if (res.writeHead && !res.headersSent) res.writeHead(502);
  res.end?.();
});
const server = createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
