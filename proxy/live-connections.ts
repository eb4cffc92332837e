// Registry of connections that outlive a single request/response exchange — proxied WebSocket upgrades
// and responses still streaming — by session id and user id, so a revocation can cut them off at once
// (the sessions engineer hooks closeSession/closeUser to the revocation bus).

export type CloseFn = () => void;

class Tracked {
  constructor(
    readonly sid: string,
    readonly sub: string,
    readonly close: CloseFn,
    readonly tenant: string = '',
  ) {}
}

export class LiveConnections {
  private readonly bySession = new Map<string, Set<Tracked>>();
  private readonly byUser = new Map<string, Set<Tracked>>();
  private readonly byTenant = new Map<string, Set<Tracked>>();

  /** Registers a live connection; returns the function that forgets it (call it when it ends). */
  track(sid: string, closeFn: CloseFn, sub = '', tenant = ''): () => void {
    const entry = new Tracked(sid, sub, closeFn, tenant);
    add(this.bySession, sid, entry);
    if (sub !== '') add(this.byUser, sub, entry);
    if (tenant !== '') add(this.byTenant, tenant, entry);
    let tracked = true;
    return () => {
      if (!tracked) return;
      tracked = false;
      this.forget(entry);
    };
  }

  private forget(e: Tracked): void {
    remove(this.bySession, e.sid, e);
    if (e.sub !== '') remove(this.byUser, e.sub, e);
    if (e.tenant !== '') remove(this.byTenant, e.tenant, e);
  }

  /** Closes every live connection of a session; returns how many were closed. */
  closeSession(sid: string): number {
    return this.closeAll(this.bySession.get(sid));
  }

  /** Closes every live connection of a user (all sessions). */
  closeUser(sub: string): number {
    return this.closeAll(this.byUser.get(sub));
  }

  /** Closes every live connection of a tenant (by slug, the `tid` claim). */
  closeTenant(tenant: string): number {
    return this.closeAll(this.byTenant.get(tenant));
  }

  /** Closes everything (server shutdown). */
  closeEverything(): number {
    let n = 0;
    for (const set of [...this.bySession.values()]) n += this.closeAll(set);
    return n;
  }

  get size(): number {
    let n = 0;
    for (const set of this.bySession.values()) n += set.size;
    return n;
  }

  private closeAll(set: Set<Tracked> | undefined): number {
    if (set === undefined) return 0;
    const entries = [...set];
    for (const e of entries) {
      this.forget(e);
      try {
        e.close();
      } catch {
        // a socket that is already gone: nothing left to cut
      }
    }
    return entries.length;
  }
}

function add(map: Map<string, Set<Tracked>>, key: string, entry: Tracked): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(entry);
}

function remove(map: Map<string, Set<Tracked>>, key: string, entry: Tracked): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(entry);
  if (set.size === 0) map.delete(key);
}
