// Indexes for the revocation poll (users/tenants disabled since T, every second) and the session
// cleanup job (sessions idle- or absolutely-expired before T); sessions.revoked_at is indexed in 001.
import type { QueryInterface } from 'sequelize';

export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.addIndex('users', ['disabled_at'], { name: 'users_disabled_idx' });
  await qi.addIndex('tenants', ['disabled_at'], { name: 'tenants_disabled_idx' });
  await qi.addIndex('sessions', ['idle_expires_at'], { name: 'sessions_idle_expires_idx' });
  await qi.addIndex('sessions', ['absolute_expires_at'], { name: 'sessions_absolute_expires_idx' });
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.removeIndex('sessions', 'sessions_absolute_expires_idx');
  await qi.removeIndex('sessions', 'sessions_idle_expires_idx');
  await qi.removeIndex('tenants', 'tenants_disabled_idx');
  await qi.removeIndex('users', 'users_disabled_idx');
}
