// authctl user …: each action takes a typed input, calls the same core services as /admin, and returns
// an Output (cli/output.ts prints it). USER is an id or an email (+ --tenant when ambiguous).
import type { Core } from '../../core/container.js';
import { toUserView, type UserView } from '../../core/domain/types.js';
import type { AdminScope } from '../../core/services/user-admin.service.js';
import { json, list, message, record, type Column, type Output } from '../output.js';

export interface UserRef {
  user: string;
  tenant?: string;
}

export const USER_COLUMNS: readonly Column<UserView>[] = [
  { header: 'ID', value: (u) => u.id },
  { header: 'EMAIL', value: (u) => u.email },
  { header: 'USERNAME', value: (u) => u.username },
  { header: 'TENANT', value: (u) => u.tenant },
  { header: 'ROLES', value: (u) => u.roles.join(',') },
  { header: 'STATUS', value: (u) => status(u) },
  { header: 'CREATED', value: (u) => u.created_at },
];

function status(u: UserView): string {
  if (u.disabled) return 'disabled';
  if (u.locked) return 'locked';
  return u.email_verified ? 'active' : 'unverified';
}

function userRecord(u: UserView): Output {
  return record(u, [
    ['id', u.id],
    ['email', u.email],
    ['username', u.username],
    ['tenant', u.tenant],
    ['roles', u.roles],
    ['status', status(u)],
    ['email verified', u.email_verified],
    ['created', u.created_at],
  ]);
}

const view = (core: Core, u: Parameters<typeof toUserView>[0]) => toUserView(u, core.clock.now());

async function resolve(core: Core, scope: AdminScope, ref: UserRef) {
  return core.admin.users.resolve(scope, ref.user, ref.tenant);
}

export interface CreateUserInput {
  email: string;
  username: string;
  roles: string[];
  tenant?: string;
  password?: string;
}

export async function createUser(core: Core, scope: AdminScope, input: CreateUserInput): Promise<Output> {
  const user = await core.admin.users.create(scope, {
    email: input.email,
    username: input.username,
    ...(input.roles.length ? { roles: input.roles } : {}),
    ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
    ...(input.password !== undefined ? { password: input.password } : {}),
  });
  const v = view(core, user);
  const note = input.password === undefined ? ' (no password: send one with `authctl user reset-password`)' : '';
  return message(`created user ${v.email} (${v.id}) in tenant ${v.tenant} with roles ${v.roles.join(',')}${note}`, v);
}

export interface ListUsersInput {
  tenant?: string;
  role?: string;
  disabled?: boolean;
  q?: string;
  limit: number;
}

/** Follows the cursor until `limit` users are collected. */
export async function listUsers(core: Core, scope: AdminScope, input: ListUsersInput): Promise<Output> {
  const rows: UserView[] = [];
  let cursor: string | undefined;
  do {
    const page = await core.admin.users.list(scope, {
      ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
      ...(input.role !== undefined ? { role: input.role } : {}),
      ...(input.disabled !== undefined ? { disabled: input.disabled } : {}),
      ...(input.q !== undefined ? { q: input.q } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
      limit: Math.min(500, input.limit - rows.length),
    });
    rows.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined && rows.length < input.limit);
  return list(rows, USER_COLUMNS, '(no users)');
}

export async function showUser(core: Core, scope: AdminScope, ref: UserRef): Promise<Output> {
  return userRecord(view(core, await resolve(core, scope, ref)));
}

export async function disableUser(core: Core, scope: AdminScope, ref: UserRef): Promise<Output> {
  const user = await core.admin.users.disable(scope, (await resolve(core, scope, ref)).id);
  return message(`disabled ${user.email} (${user.id}); every session revoked`, view(core, user));
}

export async function enableUser(core: Core, scope: AdminScope, ref: UserRef): Promise<Output> {
  const user = await core.admin.users.enable(scope, (await resolve(core, scope, ref)).id);
  return message(`enabled ${user.email} (${user.id})`, view(core, user));
}

export async function unlockUser(core: Core, scope: AdminScope, ref: UserRef): Promise<Output> {
  const user = await core.admin.users.unlock(scope, (await resolve(core, scope, ref)).id);
  return message(`unlocked ${user.email} (${user.id})`, view(core, user));
}

export async function setRoles(core: Core, scope: AdminScope, ref: UserRef, roles: string[]): Promise<Output> {
  const user = await core.admin.users.setRoles(scope, (await resolve(core, scope, ref)).id, roles);
  return message(`roles of ${user.email} are now ${user.roles.join(',') || '(none)'} (tokens pick them up at the next refresh)`, view(core, user));
}

export async function exportUser(core: Core, scope: AdminScope, ref: UserRef): Promise<Output> {
  return json(await core.admin.users.export(scope, (await resolve(core, scope, ref)).id));
}

/** Resolves first so the command can show who is about to be erased before asking. */
export async function describeForDelete(core: Core, scope: AdminScope, ref: UserRef): Promise<{ id: string; label: string }> {
  const user = await resolve(core, scope, ref);
  return { id: user.id, label: `${user.email} (${user.id}) in tenant ${user.tenantSlug}` };
}

export async function deleteUser(core: Core, scope: AdminScope, id: string, label: string): Promise<Output> {
  await core.admin.users.delete(scope, id);
  return message(`deleted ${label}: personal data erased, sessions removed, audit rows pseudonymised`, { id, deleted: true });
}

export async function resetPassword(core: Core, scope: AdminScope, ref: UserRef, print: boolean): Promise<Output> {
  const result = await core.admin.users.passwordReset(scope, (await resolve(core, scope, ref)).id, { print });
  const data = { id: result.user.id, email: result.user.email, sent: result.sent, expires_at: result.expires_at, ...(result.link ? { link: result.link } : {}) };
  const text = result.link
    ? `reset link for ${result.user.email} (valid until ${result.expires_at}):\n${result.link}`
    : `reset link mailed to ${result.user.email} (valid until ${result.expires_at})`;
  return message(text, data);
}
