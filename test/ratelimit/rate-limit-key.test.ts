// Table tests of the pure rate-limit key choice and IP canonicalisation (no HTTP).
import t from 'tap';
import { ipBucket, rateLimitKey } from '../../core/ratelimit/rate-limit-key.js';
import { authEndpointGroup } from '../../core/ratelimit/auth-endpoint-limits.js';
import { tightest } from '../../core/ratelimit/rate-limit.js';

t.test('ipBucket canonicalises addresses', async (t) => {
  const cases: Array<[string | null, string]> = [
    ['1.2.3.4', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:1.2.3.4', '1.2.3.4'],
    ['::ffff:0102:0304', '1.2.3.4'],
    ['0:0:0:0:0:ffff:1.2.3.4', '1.2.3.4'],
    ['2001:db8:1:2:3:4:5:6', '2001:0db8:0001:0002::/64'],
    ['2001:db8:1:2::99', '2001:0db8:0001:0002::/64'],
    ['2001:DB8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002::/64'],
    ['[2001:db8:1:2::1]', '2001:0db8:0001:0002::/64'],
    ['fe80::1%eth0', 'fe80:0000:0000:0000::/64'],
    ['::1', '0000:0000:0000:0000::/64'],
    ['64:ff9b::1.2.3.4', '0064:ff9b:0000:0000::/64'],
    ['2001:db8:1:3::1', '2001:0db8:0001:0003::/64'],
    ['', 'unknown'],
    [null, 'unknown'],
    ['not-an-ip', 'unknown'],
    ['1.2.3.4.5', 'unknown'],
  ];
  for (const [input, want] of cases) t.equal(ipBucket(input), want, String(input));
  t.not(ipBucket('2001:db8:1:2::1'), ipBucket('2001:db8:1:3::1'), 'different /64s are different buckets');
});

t.test('rateLimitKey by ip | user | tenant | route', async (t) => {
  const id = { sub: 'u-1', tid: 'acme' };
  const cases: Array<[Parameters<typeof rateLimitKey>, string]> = [
    [['ip', id, '10.0.0.1'], 'ip:10.0.0.1'],
    [['ip', null, '::ffff:10.0.0.1'], 'ip:10.0.0.1'],
    [['ip', null, '2001:db8::1'], 'ip:2001:0db8:0000:0000::/64'],
    [['user', id, '10.0.0.1'], 'user:u-1'],
    [['user', null, '10.0.0.1'], 'ip:10.0.0.1'],
    [['tenant', id, '10.0.0.1'], 'tenant:acme'],
    [['tenant', null, '10.0.0.2'], 'ip:10.0.0.2'],
    [['route', id, '10.0.0.1'], 'route'],
    [['route', null, null], 'route'],
    [['ip', null, null], 'ip:unknown'],
  ];
  for (const [args, want] of cases) t.equal(rateLimitKey(...args), want, JSON.stringify(args));
  t.equal(rateLimitKey('user', id, '10.0.0.1'), rateLimitKey('user', id, '10.0.0.2'), 'by user ignores the address');
});

t.test('authEndpointGroup', async (t) => {
  const cases: Array<[string, string | null]> = [
    ['/auth/login', 'login'],
    ['/auth/refresh', 'refresh'],
    ['/auth/register', 'register'],
    ['/auth/password-reset/request', 'password-reset'],
    ['/auth/password-reset/confirm', 'password-reset'],
    ['/auth/verify-email', 'verify-email'],
    ['/auth/verify-email/request', 'verify-email'],
    ['/auth/me', null],
    ['/auth/verify', null],
    ['/auth/loginx', null],
    ['/other/login', null],
  ];
  for (const [path, want] of cases) t.equal(authEndpointGroup('/auth', path), want, path);
});

t.test('tightest picks a refusal, else the fewest remaining', async (t) => {
  const a = { allowed: true, limit: 600, remaining: 590, resetSec: 50 };
  const b = { allowed: true, limit: 5, remaining: 2, resetSec: 40 };
  const c = { allowed: false, limit: 5, remaining: 0, resetSec: 3 };
  t.same(tightest([a, b]), b);
  t.same(tightest([a, c, b]), c);
  t.equal(tightest([]), null);
});
