// The one place emails are normalised: trimmed, Unicode NFC, lower-cased as a whole (SPEC §3).
// Normalising once here means `Alice@Example.com` and `alice@example.com` are one account everywhere.

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

export function normalizeEmail(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase();
}

export function isPlausibleEmail(normalised: string): boolean {
  // Control characters are refused on purpose (they would split headers and log lines).
  // eslint-disable-next-line no-control-regex
  return normalised.length <= 320 && EMAIL_SHAPE.test(normalised) && !/[\u0000-\u001f\u007f]/u.test(normalised);
}
