// BatchedConsumer (issue 9): consumes of one key in the same event-loop turn become one consume of N points,
// and each request still gets exactly the answer a sequence of single consumes would give — on the memory
// limiter always, and on a real Redis limiter when TEST_REDIS_URL is set.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { BatchedConsumer } from '../../core/ratelimit/batched-consume.js';
import { consumePoint } from '../../core/ratelimit/rate-limit.js';

const REDIS = process.env.TEST_REDIS_URL;

/** Counts consume calls on the wrapped limiter, and their points. */
function counting(limiter: RateLimiterAbstract): { limiter: RateLimiterAbstract; calls: number[] } {
  const calls: number[] = [];
  const consume = limiter.consume.bind(limiter);
  limiter.consume = (key, points = 1, options) => {
    calls.push(Number(points));
    return consume(key, points, options);
  };
  return { limiter, calls };
}

async function behaves(t: Test, make: (points: number) => RateLimiterAbstract): Promise<void> {
  const { limiter, calls } = counting(make(3));
  const batched = new BatchedConsumer(limiter);
  // Five requests for one key and two for another, all in one turn.
  const outcomes = await Promise.all([
    ...Array.from({ length: 5 }, () => consumePoint(batched, 'user:a')),
    ...Array.from({ length: 2 }, () => consumePoint(batched, 'user:b')),
  ]);
  t.same(
    outcomes.map((o) => [o.allowed, o.remaining]),
    [
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
      [false, 0],
      [true, 2],
      [true, 1],
    ],
    'the same answers, in arrival order, as seven single consumes',
  );
  t.same(calls.sort(), [2, 5], 'one store consume per key (5 points and 2 points)');
  // The next turn continues from the stored total.
  const next = await consumePoint(batched, 'user:b');
  t.same([next.allowed, next.remaining], [true, 0], 'third point of user:b');
  const refused = await consumePoint(batched, 'user:b');
  t.equal(refused.allowed, false, 'fourth point of user:b refused');
  t.ok(refused.resetSec >= 1, 'refusal carries the window reset');
  t.ok(batched.points === 3);
}

t.test('memory limiter', async (t) => {
  await behaves(t, (points) => new RateLimiterMemory({ points, duration: 60, keyPrefix: `t${randomBytes(4).toString('hex')}` }));
});

t.test('a store error reaches every request of the batch (consumePoint fails open)', async (t) => {
  const limiter = new RateLimiterMemory({ points: 3, duration: 60 });
  limiter.consume = () => Promise.reject(new Error('store down'));
  const errors: unknown[] = [];
  const outcomes = await Promise.all([1, 2, 3].map(() => consumePoint(new BatchedConsumer(limiter), 'k', (e) => errors.push(e))));
  t.same(outcomes.map((o) => o.allowed), [true, true, true], 'fail open');
  t.equal(errors.length, 3);
});

t.test('a refusal without a running total (in-memory block) refuses the whole batch', async (t) => {
  const limiter = new RateLimiterMemory({ points: 3, duration: 60 });
  limiter.consume = () => Promise.reject(new RateLimiterRes(0, 5000));
  const batched = new BatchedConsumer(limiter);
  const outcomes = await Promise.all([1, 2].map(() => consumePoint(batched, 'k')));
  t.same(outcomes.map((o) => o.allowed), [false, false]);
});

t.test('redis limiter', { skip: REDIS ? false : 'TEST_REDIS_URL not set' }, async (t) => {
  const client = new Redis(REDIS as string, { enableOfflineQueue: true, enableAutoPipelining: true });
  t.teardown(() => client.disconnect());
  const prefix = `authgate-test-batched-${randomBytes(6).toString('hex')}`;
  t.teardown(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
  });
  await behaves(t, (points) => new RateLimiterRedis({ storeClient: client, points, duration: 60, keyPrefix: prefix }));
});
