// Common-password lookup backed by the maintained @zxcvbn-ts/language-common dictionaries
// (passwords list), loaded once into a Set at first use.
import { dictionary } from '@zxcvbn-ts/language-common';

let common: ReadonlySet<string> | undefined;

function load(): ReadonlySet<string> {
  const lists = dictionary as unknown as Record<string, readonly string[]>;
  common = new Set((lists.passwords ?? []).map((p) => p.toLowerCase()));
  return common;
}

export function isCommonPassword(password: string): boolean {
  const set = common ?? load();
  const lower = password.toLowerCase();
  if (set.has(lower)) return true;
  // "password123456" style: a common word padded with digits or symbols.
  const stripped = lower.replace(/[\d\W_]+$/u, '').replace(/^[\d\W_]+/u, '');
  return stripped.length >= 4 && stripped !== lower && set.has(stripped) && lower.length - stripped.length <= 6;
}
