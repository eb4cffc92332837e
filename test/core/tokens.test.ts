// Access-token verification rejects every classic JWT attack: alg none, HS256 keyed with the public
// key (algorithm confusion), tampered payload, wrong iss/aud/typ, expired/not-yet-valid, missing exp,
// unknown kid, and keys named by the token (jku/jwk) which are never used or fetched.
import t, { type Test } from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, base64url } from 'jose';
import { ManualClock } from '../../core/clock.js';
import { openDatabase } from '../../core/db/database.js';
import { migrate } from '../../core/db/migrator.js';
import { SigningKeyRepository } from '../../core/repositories/signing-key.repository.js';
import { KeyStore } from '../../core/tokens/key-store.js';
import { TokenService } from '../../core/tokens/token.service.js';
import { AppError } from '../../core/errors.js';
import { createTestDatabase } from '../helpers/db.js';

const clock = new ManualClock(Date.parse('2026-06-01T12:00:00Z'));
const tdb = await createTestDatabase('tokens');
const db = openDatabase({ url: tdb.url });
await migrate(db);
const keys = new KeyStore(new SigningKeyRepository(db), clock);
await keys.init();
const opts = { issuer: 'https://auth.example.com', audience: 'authgate', accessTtlMs: 900_000, clockToleranceMs: 5000 };
const tokens = new TokenService(keys, clock, opts);
t.teardown(async () => {
  await db.close();
  await tdb.drop();
});

const claims = { sub: 'user-1', sid: 'session-1', tid: 'default', roles: ['viewer'], email: 'a@example.com' };
const good = (await tokens.issueAccessToken(claims)).token;
const { kid } = keys.signingKey('EdDSA');
const [headerB64, payloadB64, sigB64] = good.split('.') as [string, string, string];
const payload = JSON.parse(Buffer.from(payloadB64, 'base64url').toString());

async function rejects(t: Test, token: string, code: string | RegExp, name: string) {
  const err = await tokens.verifyAccessToken(token).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(err, AppError, `${name}: rejected with an AppError`);
  t.equal((err as AppError).status, 401, `${name}: 401`);
  if (typeof code === 'string') t.equal((err as AppError).code, code, `${name}: ${code}`);
  else t.match((err as AppError).code, code, name);
}

t.test('a genuine token verifies with every SPEC §4 claim', async (t) => {
  const v = await tokens.verifyAccessToken(good);
  t.match(v, { sub: 'user-1', sid: 'session-1', tid: 'default', roles: ['viewer'], email: 'a@example.com', iss: opts.issuer, aud: 'authgate' });
  t.equal(v.exp - v.iat, 900);
  t.ok(v.jti);
  const header = JSON.parse(Buffer.from(headerB64, 'base64url').toString());
  t.same(header, { alg: 'EdDSA', kid, typ: 'at+jwt' });
  t.equal(payload.role, 'viewer', 'role = first role, for compatibility');
});

t.test('alg none', async (t) => {
  const h = base64url.encode(JSON.stringify({ alg: 'none', kid, typ: 'at+jwt' }));
  await rejects(t, `${h}.${payloadB64}.`, 'ERR_TOKEN_ALG', 'none');
});

t.test('HS256 signed with the public key bytes (algorithm confusion)', async (t) => {
  const jwk = keys.jwks().keys.find((k) => k.kid === kid)!;
  for (const secret of [Buffer.from(JSON.stringify(jwk)), Buffer.from(jwk.x!, 'base64url')]) {
    const forged = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' }).sign(secret);
    await rejects(t, forged, 'ERR_TOKEN_ALG', 'HS256 confusion');
  }
});

t.test('tampered payload and signature', async (t) => {
  const evil = base64url.encode(JSON.stringify({ ...payload, roles: ['admin'] }));
  await rejects(t, `${headerB64}.${evil}.${sigB64}`, 'ERR_TOKEN_SIGNATURE', 'tampered payload');
  const flipped = sigB64.slice(0, -2) + (sigB64.endsWith('AA') ? 'BA' : 'AA');
  await rejects(t, `${headerB64}.${payloadB64}.${flipped}`, /ERR_TOKEN_(SIGNATURE|INVALID)/, 'tampered signature');
  await rejects(t, 'not-a-jwt', 'ERR_TOKEN_MALFORMED', 'garbage');
});

t.test('wrong issuer, audience or typ', async (t) => {
  const other = new TokenService(keys, clock, { ...opts, issuer: 'https://evil.example' });
  await rejects(t, (await other.issueAccessToken(claims)).token, 'ERR_TOKEN_CLAIMS', 'wrong iss');
  const otherAud = new TokenService(keys, clock, { ...opts, audience: 'someone-else' });
  await rejects(t, (await otherAud.issueAccessToken(claims)).token, 'ERR_TOKEN_CLAIMS', 'wrong aud');
  const idToken = await tokens.signJwt({ ...payload }, { typ: 'JWT', ttlSeconds: 60, audience: 'authgate' });
  await rejects(t, idToken, /ERR_TOKEN_(CLAIMS|INVALID)/, 'typ JWT is not an access token');
});

t.test('expiry with an injected clock; tolerance is at most 5 s', async (t) => {
  const token = (await tokens.issueAccessToken(claims)).token;
  clock.advance(900_000 + 4_000);
  t.ok(await tokens.verifyAccessToken(token), 'within the 5 s tolerance');
  clock.advance(2_000);
  await rejects(t, token, 'ERR_TOKEN_EXPIRED', 'expired');
  clock.advance(-906_000);
  const future = new TokenService(keys, new ManualClock(clock.now() + 60_000), opts);
  const nbf = (await future.issueAccessToken(claims)).token;
  await rejects(t, nbf, 'ERR_TOKEN_CLAIMS', 'issued in the future (iat beyond tolerance)');
  const { key } = keys.signingKey('EdDSA');
  const notBefore = await new SignJWT({ ...payload, nbf: Math.floor(clock.now() / 1000) + 60 }).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' }).sign(key);
  await rejects(t, notBefore, 'ERR_TOKEN_CLAIMS', 'nbf in the future');
});

t.test('missing exp', async (t) => {
  const { key } = keys.signingKey('EdDSA');
  const noExp = await new SignJWT({ sid: 's', tid: 'default', roles: [] })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setSubject('u')
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .sign(key);
  await rejects(t, noExp, 'ERR_TOKEN_CLAIMS', 'missing exp');
});

t.test('unknown kid and attacker-supplied keys (jwk / jku headers) are never used or fetched', async (t) => {
  let fetched = 0;
  const jkuServer = createServer((_req, res) => {
    fetched++;
    res.end('{}');
  });
  await new Promise<void>((r) => jkuServer.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => jkuServer.close(() => r())));
  const jkuUrl = `http://127.0.0.1:${(jkuServer.address() as AddressInfo).port}/jwks.json`;
  const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const attackerJwk = await exportJWK(attacker.publicKey);
  const forge = (header: Record<string, unknown>) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', ...header }).sign(attacker.privateKey);
  await rejects(t, await forge({ kid: 'attacker-key' }), 'ERR_TOKEN_UNKNOWN_KEY', 'unknown kid');
  await rejects(t, await forge({ kid, jwk: attackerJwk }), 'ERR_TOKEN_SIGNATURE', 'embedded jwk ignored');
  await rejects(t, await forge({ kid: 'remote', jku: jkuUrl }), 'ERR_TOKEN_UNKNOWN_KEY', 'jku ignored');
  await rejects(t, await forge({ jwk: attackerJwk }), 'ERR_TOKEN_UNKNOWN_KEY', 'no kid + jwk');
  t.equal(fetched, 0, 'no outbound request to the jku URL');
});

t.test('key rotation: old tokens verify until the old key is retired', async (t) => {
  const before = (await tokens.issueAccessToken(claims)).token;
  const oldKid = keys.signingKey('EdDSA').kid;
  const newKid = await keys.rotate('EdDSA');
  t.not(newKid, oldKid);
  const after = (await tokens.issueAccessToken(claims)).token;
  t.equal(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid, newKid, 'new tokens use the new key');
  t.ok(await tokens.verifyAccessToken(before), 'old token still verifies');
  t.ok(keys.jwks().keys.some((k) => k.kid === oldKid), 'old key still published');
  await keys.retire(oldKid);
  await rejects(t, before, 'ERR_TOKEN_UNKNOWN_KEY', 'after retire');
  t.notOk(keys.jwks().keys.some((k) => k.kid === oldKid), 'retired key no longer published');
  t.ok(await tokens.verifyAccessToken(after));
});
