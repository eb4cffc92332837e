// ioredis client factory: one place that turns config.redis.url into a connection with authgate's
// defaults (bounded reconnect backoff, named connections, errors logged instead of thrown).
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';

export type RedisClient = Redis;

export interface RedisClientOptions {
  /** Shown in CLIENT LIST and in log lines (e.g. `revocation-sub`). */
  name: string;
  logger?: Logger;
  /** Extra ioredis options (a subscriber wants `autoResubscribe: false` to control ordering). */
  redis?: RedisOptions;
}

/**
 * Reconnects forever with a capped backoff (50 ms → 2 s): a Redis restart must heal by itself.
 * `maxRetriesPerRequest: 1` makes commands issued while disconnected fail fast instead of piling up.
 */
export function createRedisClient(url: string, options: RedisClientOptions): RedisClient {
  const client = new Redis(url, {
    connectionName: `authgate-${options.name}`,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    ...options.redis,
  });
  let lastLogged = 0;
  client.on('error', (err: Error) => {
    // ioredis emits an error per failed reconnect attempt; log at most one every 5 s per connection.
    const now = Date.now();
    if (now - lastLogged < 5000) return;
    lastLogged = now;
    options.logger?.warn({ err: { message: err.message }, redis: options.name }, 'redis connection error');
  });
  return client;
}
