// server.metrics_port: /metrics moves to its own listener and is no longer served on the main port.
import t from 'tap';
import { http, startTestApp } from '../helpers/app.js';
import { freePort } from '../helpers/processes.js';


t.test('metrics on a separate port', async (t) => {
  const port = await freePort();
  const app = await startTestApp({ config: { server: { metrics_port: port } } });
  t.teardown(() => app.close());
  const separate = await http(`http://127.0.0.1:${port}`, 'GET', '/metrics');
  t.equal(separate.status, 200);
  t.match(separate.text, /authgate_requests_total|authgate_process_cpu/);
  const other = await http(`http://127.0.0.1:${port}`, 'GET', '/healthz');
  t.equal(other.status, 404, 'only /metrics on the metrics port');
  const main = await http(app.url, 'GET', '/metrics');
  t.not(main.status, 200, 'not on the main port any more');
});

t.test('metrics on the main port by default', async (t) => {
  const app = await startTestApp();
  t.teardown(() => app.close());
  const main = await http(app.url, 'GET', '/metrics');
  t.equal(main.status, 200);
  t.match(main.text, /authgate_/);
});
