// Signing keys imported once: the active EdDSA (and RS256) private keys sign, every non-retired public
// key verifies. A key is never fetched from a token's header (jku/jwk/x5u are ignored by design).
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { SigningKeyRepository } from '../repositories/signing-key.repository.js';
import type { SigningKeyRecord } from '../domain/types.js';

export type SigningAlg = 'EdDSA' | 'RS256';
export const SUPPORTED_ALGS: readonly SigningAlg[] = ['EdDSA', 'RS256'];

interface LoadedKey {
  kid: string;
  alg: SigningAlg;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  publicJwk: JWK;
  active: boolean;
  createdAt: Date;
  retiredAt: Date | null;
}

export interface KeyInfo {
  kid: string;
  alg: string;
  active: boolean;
  created_at: string;
  retired_at: string | null;
}

export class KeyStore {
  private keys = new Map<string, LoadedKey>();
  private active = new Map<SigningAlg, LoadedKey>();

  constructor(
    private readonly repo: SigningKeyRepository,
    private readonly clock: Clock,
  ) {}

  /** Loads keys from the database, generating the first EdDSA and RS256 keys when none exist. */
  async init(): Promise<void> {
    let records = await this.repo.listUsable();
    for (const alg of SUPPORTED_ALGS) {
      if (!records.some((r) => r.alg === alg && r.active)) await this.create(alg);
    }
    records = await this.repo.listUsable();
    await this.load(records);
  }

  /** Re-reads keys (after `authctl keys rotate` in another process). */
  async reload(): Promise<void> {
    await this.load(await this.repo.listUsable());
  }

  private async load(records: SigningKeyRecord[]): Promise<void> {
    const keys = new Map<string, LoadedKey>();
    const active = new Map<SigningAlg, LoadedKey>();
    for (const r of records) {
      if (!SUPPORTED_ALGS.includes(r.alg as SigningAlg)) continue;
      const alg = r.alg as SigningAlg;
      const existing = this.keys.get(r.kid);
      const publicJwk = JSON.parse(r.publicJwk) as JWK;
      const loaded: LoadedKey = existing
        ? { ...existing, active: r.active, retiredAt: r.retiredAt }
        : {
            kid: r.kid,
            alg,
            publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
            privateKey: (await importJWK(JSON.parse(r.privateJwk) as JWK, alg)) as CryptoKey,
            publicJwk,
            active: r.active,
            createdAt: r.createdAt,
            retiredAt: r.retiredAt,
          };
      keys.set(r.kid, loaded);
      if (r.active) {
        const prev = active.get(alg);
        if (!prev || prev.createdAt < loaded.createdAt) active.set(alg, loaded);
      }
    }
    this.keys = keys;
    this.active = active;
  }

  async create(alg: SigningAlg): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { modulusLength: 2048, extractable: true });
    const kid = `${alg === 'EdDSA' ? 'ed' : 'rs'}-${randomUUID().slice(0, 8)}-${this.clock.now().toString(36)}`;
    const pub = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const priv = { ...(await exportJWK(privateKey)), kid, alg };
    await this.repo.insert({
      kid,
      alg,
      publicJwk: JSON.stringify(pub),
      privateJwk: JSON.stringify(priv),
      active: true,
      createdAt: new Date(this.clock.now()),
    });
    return kid;
  }

  /** Adds a new signing key for `alg`; old keys keep verifying until retired. */
  async rotate(alg: SigningAlg = 'EdDSA'): Promise<string> {
    const kid = await this.create(alg);
    await this.reload();
    return kid;
  }

  async retire(kid: string): Promise<boolean> {
    const key = this.keys.get(kid);
    if (key?.active) throw new TypeError('cannot retire the active signing key; rotate first');
    const ok = await this.repo.retire(kid, new Date(this.clock.now()));
    await this.reload();
    return ok;
  }

  signingKey(alg: SigningAlg = 'EdDSA'): { kid: string; key: CryptoKey; alg: SigningAlg } {
    const k = this.active.get(alg);
    if (!k) throw new TypeError(`no active ${alg} signing key; call init() first`);
    return { kid: k.kid, key: k.privateKey, alg };
  }

  /** The verification key for a kid, or undefined (unknown kid → the token is rejected). */
  verificationKey(kid: string): { key: CryptoKey; alg: SigningAlg } | undefined {
    const k = this.keys.get(kid);
    return k && !k.retiredAt ? { key: k.publicKey, alg: k.alg } : undefined;
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].filter((k) => !k.retiredAt).map((k) => ({ ...k.publicJwk })) };
  }

  async list(): Promise<KeyInfo[]> {
    return (await this.repo.list()).map((r) => ({
      kid: r.kid,
      alg: r.alg,
      active: r.active,
      created_at: r.createdAt.toISOString(),
      retired_at: r.retiredAt ? r.retiredAt.toISOString() : null,
    }));
  }
}
