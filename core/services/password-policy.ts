// Password policy (SPEC §6): length in characters and UTF-8 bytes, not equal to/containing the email
// local part or username, not a common password. Reuse of recent passwords is checked by the caller.
import type { FieldError } from '../errors.js';
import { BCRYPT_MAX_BYTES } from './password-hasher.js';
import { isCommonPassword } from './common-passwords.js';

export interface PasswordContext {
  email?: string;
  username?: string;
}

export interface PasswordPolicy {
  check(password: string, context: PasswordContext, field?: string): FieldError[];
}

export function createPasswordPolicy(minLength: number): PasswordPolicy {
  return {
    check(password, context, field = 'password') {
      const errors: FieldError[] = [];
      const add = (message: string) => errors.push({ field, message });
      if ([...password].length < minLength) add(`must be at least ${minLength} characters (rule: min_length)`);
      if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES)
        add(`must be at most ${BCRYPT_MAX_BYTES} bytes in UTF-8 (rule: max_bytes)`);
      const lower = password.toLowerCase();
      const local = context.email?.split('@')[0]?.toLowerCase();
      const username = context.username?.toLowerCase();
      if (context.email && lower === context.email.toLowerCase()) add('must not equal the email address (rule: not_email)');
      else if (local && local.length >= 3 && lower.includes(local)) add('must not contain the email name (rule: not_email)');
      if (username && username.length >= 3 && lower.includes(username)) add('must not contain the username (rule: not_username)');
      if (errors.length === 0 && isCommonPassword(password)) add('is too common (rule: common_password)');
      return errors;
    },
  };
}
