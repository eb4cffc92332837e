// The one place database errors become AppErrors: repositories call it, callers never see Sequelize errors.
import {
  BaseError,
  ConnectionError,
  ForeignKeyConstraintError,
  TimeoutError,
  UniqueConstraintError,
  ValidationError,
} from 'sequelize';
import { AppError, Errors } from '../errors.js';

export function translateDbError(err: unknown, what = 'Record'): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof UniqueConstraintError) return Errors.conflict(`${what} already exists.`, 'ERR_ALREADY_EXISTS');
  if (err instanceof ForeignKeyConstraintError) return Errors.notFound(what);
  if (err instanceof ConnectionError || err instanceof TimeoutError) return Errors.unavailable('The database is unavailable.');
  if (err instanceof ValidationError) return Errors.badRequest(err.errors.map((e) => e.message).join('; '));
  if (err instanceof BaseError) {
    const pgCode = (err as { original?: { code?: unknown } }).original?.code;
    // Client input PostgreSQL cannot even represent (issue 10: a malformed id in a URL was a 500):
    // 22P02 invalid_text_representation (not a UUID, so no such record), 22001 too long, 22021 bad bytes,
    // 22003 numeric out of range.
    if (pgCode === '22P02') return Errors.notFound(what);
    if (pgCode === '22001' || pgCode === '22021' || pgCode === '22003') return Errors.badRequest('A value in the request is not acceptable.');
    const message = String((err as { original?: { code?: string } }).original?.code ?? err.message);
    if (/ECONNREFUSED|ECONNRESET|57P0[1-3]|08\d\d\d|Connection terminated|SQLITE_BUSY/.test(message + err.message))
      return Errors.unavailable('The database is unavailable.');
  }
  if (err instanceof Error && /ECONNREFUSED|ECONNRESET|Connection terminated/.test(err.message))
    return Errors.unavailable('The database is unavailable.');
  return Errors.internal(err);
}

/** Runs a repository operation, translating any database error. */
export async function dbCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translateDbError(err, what);
  }
}
