// The one output module: every command result is printed here, as an aligned table / short sentence,
// or with --json as JSON (lists are arrays of the objects the HTTP API returns).

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

/** What an action returns; the command renders it with the --json flag. */
export type Output =
  | { kind: 'list'; rows: readonly unknown[]; columns: readonly Column<never>[]; empty?: string }
  | { kind: 'record'; data: unknown; fields: ReadonlyArray<readonly [string, unknown]> }
  | { kind: 'message'; text: string; data: unknown }
  | { kind: 'json'; data: unknown };

export function list<T>(rows: readonly T[], columns: readonly Column<T>[], empty = '(none)'): Output {
  return { kind: 'list', rows, columns: columns as unknown as readonly Column<never>[], empty };
}

export function record(data: unknown, fields: ReadonlyArray<readonly [string, unknown]>): Output {
  return { kind: 'record', data, fields };
}

export function message(text: string, data: unknown = { ok: true }): Output {
  return { kind: 'message', text, data };
}

/** Always JSON (exports), whatever --json says. */
export function json(data: unknown): Output {
  return { kind: 'json', data };
}

function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (Array.isArray(v)) return v.length ? v.join(',') : '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v).replace(/[\r\n\t]+/g, ' ');
}

export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function render(output: Output, asJson: boolean): string {
  if (output.kind === 'json' || (asJson && output.kind !== 'list')) {
    const data = output.kind === 'json' || output.kind === 'record' || output.kind === 'message' ? output.data : null;
    return JSON.stringify(data, null, 2);
  }
  switch (output.kind) {
    case 'list': {
      if (asJson) return JSON.stringify(output.rows, null, 2);
      if (output.rows.length === 0) return output.empty ?? '(none)';
      const cols = output.columns as readonly Column<unknown>[];
      return formatTable(
        cols.map((c) => c.header),
        output.rows.map((r) => cols.map((c) => cell(c.value(r)))),
      );
    }
    case 'record': {
      const width = Math.max(...output.fields.map(([k]) => k.length));
      return output.fields.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n');
    }
    case 'message':
      return output.text;
  }
}

export function print(output: Output, asJson: boolean): void {
  process.stdout.write(`${render(output, asJson)}\n`);
}
