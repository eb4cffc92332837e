// Parses durations written as seconds (`900`) or with a unit (`15m`, `7d`, `500ms`) into milliseconds.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/;

/** Returns milliseconds, or undefined when the text is not a duration. Bare numbers are seconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const m = DURATION.exec(value.trim());
  if (!m) return undefined;
  const amount = Number(m[1]);
  const unit = UNITS[m[2] ?? 's'];
  if (unit === undefined || !Number.isFinite(amount)) return undefined;
  return Math.round(amount * unit);
}
