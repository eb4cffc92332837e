// Small helpers shared by the command files: repeatable options, help examples, integer parsing.
import { InvalidArgumentError } from 'commander';

/** `--role a --role b` → ['a', 'b']. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** The "Example:" block every command's --help ends with. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
