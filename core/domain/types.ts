// Plain domain objects returned by repositories and used by services; no Sequelize type leaves core/repositories.

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  disabledAt: Date | null;
  createdAt: Date;
}

export interface User {
  id: string;
  tenantId: string;
  tenantSlug: string;
  email: string;
  username: string;
  roles: string[];
  emailVerifiedAt: Date | null;
  disabledAt: Date | null;
  lockedUntil: Date | null;
  failedLoginCount: number;
  passwordChangedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A user together with its password hash; only the login/password services ask for it. */
export interface UserWithSecret extends User {
  passwordHash: string | null;
}

export type RevocationReason =
  | 'logout'
  | 'logout_all'
  | 'password_change'
  | 'password_reset'
  | 'admin'
  | 'reuse_detected'
  | 'user_disabled'
  | 'user_deleted'
  | 'tenant_disabled'
  | 'expired';

export interface Session {
  id: string;
  userId: string;
  tenantId: string;
  ip: string | null;
  userAgent: string | null;
  clientId: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  createdAt: Date;
  spentAt: Date | null;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  publicJwk: string;
  privateJwk: string;
  active: boolean;
  createdAt: Date;
  retiredAt: Date | null;
}

/** The public JSON shape of a user (SPEC §3). */
export interface UserView {
  id: string;
  email: string;
  username: string;
  roles: string[];
  tenant: string;
  email_verified: boolean;
  disabled: boolean;
  locked: boolean;
  created_at: string;
}

export function toUserView(user: User, now = Date.now()): UserView {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    roles: [...user.roles],
    tenant: user.tenantSlug,
    email_verified: user.emailVerifiedAt !== null,
    disabled: user.disabledAt !== null,
    locked: user.lockedUntil !== null && user.lockedUntil.getTime() > now,
    created_at: user.createdAt.toISOString(),
  };
}
