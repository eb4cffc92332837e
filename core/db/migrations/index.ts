// The ordered list of migrations. Append new ones; never edit or reorder an applied migration.
import type { QueryInterface } from 'sequelize';
import * as m001 from './001-foundation.js';
import * as m002 from './002-audit-events.js';
import * as m003 from './003-revocation-indexes.js';
import * as m004 from './004-email-tokens.js';
import * as m005 from './005-password-history.js';
import * as m006 from './006-oauth.js';

export interface MigrationModule {
  up(params: { context: QueryInterface }): Promise<void>;
  down(params: { context: QueryInterface }): Promise<void>;
}

export const MIGRATIONS: ReadonlyArray<readonly [name: string, module: MigrationModule]> = [
  ['001-foundation', m001],
  ['002-audit-events', m002],
  ['003-revocation-indexes', m003],
  ['004-email-tokens', m004],
  ['005-password-history', m005],
  ['006-oauth', m006],
];
