// bcrypt hashing (native, async: runs on the libuv pool, not the event loop) with a dummy hash so a
// lookup of an unknown user costs the same as a real compare (no timing oracle for account existence).
import bcrypt from 'bcrypt';

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
  return {
    hash: (password) => bcrypt.hash(password, cost),
    async verify(password, hash) {
      if (!hash || Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
        await bcrypt.compare(password.slice(0, 72), dummy);
        return false;
      }
      return bcrypt.compare(password, hash);
    },
    async burn(password) {
      await bcrypt.compare(password.slice(0, 72), dummy);
      return false;
    },
  };
}
