// Table tests of the pure pieces of the pipeline: header-name normalisation, Connection parsing, the
// access_token query detector, header value sanitising, response hop-by-hop removal, the token cache
// (LRU bound, never past exp) and the live-connection registry.
import t from 'tap';
import { ManualClock } from '../../core/clock.js';
import type { VerifiedToken } from '../../core/tokens/token.service.js';
import { connectionListed, normalizeHeaderName } from '../../proxy/pipeline/strip-headers.js';
import { hasAccessTokenParam } from '../../proxy/pipeline/read-credential.js';
import { headerValue } from '../../proxy/pipeline/inject-identity.js';
import { headersObject, responseHeaders } from '../../proxy/pipeline/forward.js';
import { TokenCache } from '../../proxy/token-cache.js';
import { LiveConnections } from '../../proxy/live-connections.js';

t.test('normalizeHeaderName', async (t) => {
  for (const [input, want] of [
    ['x-auth-user-id', 'x-auth-user-id'],
    ['x_auth_user_id', 'x-auth-user-id'],
    ['x-auth_user-id', 'x-auth-user-id'],
    ['content-type', 'content-type'],
  ] as const) t.equal(normalizeHeaderName(input), want, input);
});

t.test('connectionListed', async (t) => {
  t.equal(connectionListed(undefined), null);
  t.equal(connectionListed('keep-alive'), null);
  t.equal(connectionListed('close, Upgrade'), null);
  t.same([...(connectionListed('X-Auth-User-Id, keep-alive,  Foo ') ?? [])], ['x-auth-user-id', 'foo']);
});

t.test('hasAccessTokenParam', async (t) => {
  for (const [q, want] of [
    ['', false],
    ['access_token=abc', true],
    ['a=1&access_token=abc', true],
    ['a=1&ACCESS_TOKEN=abc', true],
    ['access%5Ftoken=abc', true],
    ['access_token', true],
    ['my_access_token=1', false],
    ['x=access_token', false],
    ['access_tokens=1', false],
  ] as const) t.equal(hasAccessTokenParam(q), want, q);
});

t.test('headerValue', async (t) => {
  t.equal(headerValue('plain@example.com'), 'plain@example.com');
  t.equal(headerValue('a\r\nX-Auth-Roles: admin'), 'a%0D%0AX-Auth-Roles: admin', 'CR/LF cannot split a header');
  t.equal(headerValue('tab\there'), 'tab%09here');
  t.equal(headerValue('jos\u00e9'), 'jos%C3%A9');
  t.equal(headerValue('nul\u0000'), 'nul%00');
  t.equal(headerValue('lone\ud800'), 'lone');
});

t.test('responseHeaders removes this hop only', async (t) => {
  const out = responseHeaders({ connection: 'keep-alive, x-internal', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', 'x-internal': '1', 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
  t.same(out, { 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
  t.same(headersObject(['Host', 'h', 'Cookie', 'a=1', 'cookie', 'b=2', 'X-A', '1', 'x-a', '2']), { host: 'h', cookie: 'a=1; b=2', 'x-a': '1, 2' });
});

const claims = (exp: number): VerifiedToken => ({ sub: 's', sid: 'sid', tid: 'default', roles: [], email: '', iss: 'i', aud: 'a', jti: 'j', iat: exp - 900, exp });

t.test('TokenCache', async (t) => {
  const clock = new ManualClock(1_000_000_000_000);
  const cache = new TokenCache(2, clock);
  const exp = clock.now() / 1000 + 60;
  cache.set('a', claims(exp));
  cache.set('b', claims(exp));
  t.ok(cache.get('a'), 'hit');
  cache.set('c', claims(exp)); // evicts the least recently used: b
  t.equal(cache.get('b'), undefined, 'LRU eviction');
  t.ok(cache.get('a'));
  t.ok(cache.get('c'));
  t.equal(cache.size, 2);
  clock.advance(59_999);
  t.ok(cache.get('a'), 'still valid 1 ms before exp');
  clock.advance(1);
  t.equal(cache.get('a'), undefined, 'never returned at/after exp');
  cache.set('old', claims(clock.now() / 1000 - 1));
  t.equal(cache.get('old'), undefined, 'expired tokens are not stored');
  t.equal(new TokenCache(0, clock).get('x'), undefined);
});

t.test('LiveConnections', async (t) => {
  const live = new LiveConnections();
  const closed: string[] = [];
  const u1 = live.track('s1', () => closed.push('a'), 'u1');
  live.track('s1', () => closed.push('b'), 'u1');
  live.track('s2', () => closed.push('c'), 'u1');
  live.track('s3', () => closed.push('d'), 'u2');
  u1();
  u1();
  t.equal(live.size, 3);
  t.equal(live.closeSession('s1'), 1);
  t.same(closed, ['b']);
  t.equal(live.closeUser('u1'), 1);
  t.same(closed, ['b', 'c']);
  t.equal(live.closeSession('nope'), 0);
  t.equal(live.closeEverything(), 1);
  t.same(closed, ['b', 'c', 'd']);
  t.equal(live.size, 0);
});
