// bcrypt hashing (off the event loop, on niced worker threads: core/services/bcrypt-pool.ts) with a dummy
// hash so a lookup of an unknown user costs the same as a real compare (no timing oracle for account existence).
import bcrypt from 'bcrypt';
import { BcryptPool } from './bcrypt-pool.js';

/** bcrypt only reads the first 72 bytes; longer inputs would be silently truncated. */
export const BCRYPT_MAX_BYTES = 72;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string | null): Promise<boolean>;
  /** Runs a compare against a fixed dummy hash and returns false. */
  burn(password: string): Promise<false>;
}

export async function createPasswordHasher(cost: number): Promise<PasswordHasher> {
  const dummy = await bcrypt.hash('authgate-dummy-password-for-timing', cost);
  // A login storm must not starve the proxy: compares run below the event loop's CPU priority (issue 9).
  const pool = new BcryptPool();
  return {
    hash: (password) => pool.hash(password, cost),
    async verify(password, hash) {
      if (!hash || Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
        await pool.compare(password.slice(0, 72), dummy);
        return false;
      }
      return pool.compare(password, hash);
    },
    async burn(password) {
      await pool.compare(password.slice(0, 72), dummy);
      return false;
    },
  };
}
