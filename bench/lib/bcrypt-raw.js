// Raw bcrypt.compare throughput (own process, default libuv pool like authgate): `concurrency` compares in
// flight for `seconds`, successful compares only. Prints {"ops_per_sec":N,"count":N,"ms":N}.
// Usage: node bench/lib/bcrypt-raw.js COST SECONDS CONCURRENCY
import bcrypt from 'bcrypt';

const [cost, seconds, concurrency] = process.argv.slice(2).map(Number);
const password = 'correct horse battery staple';
const hash = await bcrypt.hash(password, cost);
await bcrypt.compare(password, hash); // warm the pool threads
let count = 0;
const started = performance.now();
const until = started + seconds * 1000;
async function lane() {
  while (performance.now() < until) {
    if (!(await bcrypt.compare(password, hash))) throw new Error('bcrypt compare failed');
    count++;
  }
}
await Promise.all(Array.from({ length: concurrency }, lane));
const ms = performance.now() - started;
process.stdout.write(`${JSON.stringify({ ops_per_sec: (count * 1000) / ms, count, ms })}\n`);
