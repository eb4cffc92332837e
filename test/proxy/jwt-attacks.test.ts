// Token attacks against the proxy: alg none, HS256 signed with the public key, tampered payload, expired
// (moved clock, also past a cached entry), wrong iss/aud, and jku/jwk headers naming an attacker's key —
// which must never be fetched. Every one is a 401 and nothing reaches the upstream.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { ManualClock } from '../../core/clock.js';
import { startTestApp, loginWithRoles, http } from '../helpers/app.js';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

t.test('JWT attacks are 401 and never reach the upstream', async (t) => {
  const clock = new ManualClock(Date.now());
  const app = await startTestApp({ clock });
  t.teardown(() => app.close());
  const viewer = await loginWithRoles(app, ['viewer']);
  const core = app.app.context.core;
  const { kid, key } = core.keys.signingKey('EdDSA');
  const [header, payload] = viewer.access.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;

  // a local server standing in for an attacker's JWKS endpoint
  let fetched = 0;
  const attackerServer = createServer((_req, res) => {
    fetched += 1;
    res.end('{"keys":[]}');
  });
  await new Promise<void>((r) => attackerServer.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => attackerServer.close(() => r())));
  const attackerUrl = `http://127.0.0.1:${(attackerServer.address() as AddressInfo).port}/jwks.json`;
  const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const attackerJwk = await exportJWK(attacker.publicKey);

  const jwksRes = await http(app.url, 'GET', '/.well-known/jwks.json');
  const publicJwk = (jwksRes.body.keys as Array<Record<string, string>>).find((k) => k.kid === kid)!;
  const hsSigned = (secret: Buffer | string) => {
    const h = b64({ alg: 'HS256', typ: 'at+jwt', kid });
    const p = b64(claims);
    return `${h}.${p}.${createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')}`;
  };
  const signWith = (over: Record<string, unknown>, iss = app.config.tokens.issuer, aud = app.config.tokens.audience) =>
    new SignJWT({ ...claims, ...over })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(Math.floor(clock.now() / 1000))
      .setExpirationTime(Math.floor(clock.now() / 1000) + 600)
      .setJti(randomUUID())
      .sign(key);

  const cases: Array<[string, string]> = [
    ['alg none', `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${payload}.`],
    ['alg none, no signature part', `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}`],
    ['HS256 with the public key (x) as secret', hsSigned(Buffer.from(publicJwk.x!, 'base64url'))],
    ['HS256 with the JWK JSON as secret', hsSigned(JSON.stringify(publicJwk))],
    ['tampered payload (roles: admin)', `${header}.${b64({ ...claims, roles: ['admin'] })}.${viewer.access.split('.')[2]}`],
    ['wrong issuer', await signWith({}, 'https://evil.example')],
    ['wrong audience', await signWith({}, app.config.tokens.issuer, 'someone-else')],
    ['typ JWT instead of at+jwt', await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' }).sign(key)],
    [
      'jku pointing at an attacker JWKS',
      await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'attacker', typ: 'at+jwt', jku: attackerUrl }).sign(attacker.privateKey),
    ],
    [
      'jku with our kid',
      await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', jku: attackerUrl }).sign(attacker.privateKey),
    ],
    [
      'embedded jwk',
      await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', jwk: attackerJwk }).sign(attacker.privateKey),
    ],
    ['x5u', await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: 'x', typ: 'at+jwt', x5u: attackerUrl }).sign(attacker.privateKey)],
  ];
  const before = app.upstream.received.length;
  for (const [name, token] of cases) {
    const res = await http(app.url, 'GET', '/api/orders/1', { token });
    t.equal(res.status, 401, name);
    t.match(res.body.code, /^ERR_TOKEN_/, `${name}: ${res.body.code}`);
    t.match(res.headers['www-authenticate'], /error="invalid_token"/, `${name}: RFC 6750 challenge`);
  }
  t.equal(app.upstream.received.length, before, 'no attack reached the upstream');
  t.equal(fetched, 0, 'the jku/x5u server received no request');

  // sanity: the genuine token works (and is now cached) ...
  t.equal((await http(app.url, 'GET', '/api/orders/1', { token: viewer.access })).status, 200);
  t.equal((await http(app.url, 'GET', '/api/orders/1', { token: viewer.access })).status, 200);
  // ... and the cache does not outlive exp: move the clock past the 15-minute lifetime
  clock.advance(16 * 60 * 1000);
  const expired = await http(app.url, 'GET', '/api/orders/1', { token: viewer.access });
  t.equal(expired.status, 401);
  t.equal(expired.body.code, 'ERR_TOKEN_EXPIRED');
});

t.test('revocation is checked on cache hits', async (t) => {
  const app = await startTestApp();
  t.teardown(() => app.close());
  const viewer = await loginWithRoles(app, ['viewer']);
  t.equal((await http(app.url, 'GET', '/api/orders/1', { token: viewer.access })).status, 200, 'verified and cached');
  const out = await http(app.url, 'POST', '/auth/logout', { token: viewer.access, json: { refresh_token: viewer.refresh } });
  t.ok(out.status < 300, `logout ${out.status}`);
  const before = app.upstream.received.length;
  const res = await http(app.url, 'GET', '/api/orders/1', { token: viewer.access });
  t.equal(res.status, 401);
  t.equal(res.body.code, 'ERR_TOKEN_REVOKED');
  t.equal(app.upstream.received.length, before);
});
