// The per-request state the pipeline stages fill in, and the dependencies they share. One ProxyContext is
// created per proxied request with every field set in the constructor (a stable object shape on the hot path).
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Core } from '../../core/container.js';
import type { CompiledPolicy, CompiledRoute, Decision, PolicyIdentity, PolicyMatch } from '../../core/policy/index.js';
import type { VerifiedToken } from '../../core/tokens/token.service.js';
import { canonicalIp, type TrustedProxies } from '../http/client-ip.js';
import type { Metrics } from '../metrics.js';
import type { PolicyStore } from '../policy-store.js';
import type { TokenCache } from '../token-cache.js';
import type { LiveConnections } from '../live-connections.js';
import type { Forwarder } from './forward.js';

/** A stage: fills the fields it owns or throws an AppError. Returns a promise only when it must wait. */
export type Stage = (ctx: ProxyContext) => void | Promise<void>;

/** Rate limiting plugs in here (proxy/pipeline/apply-rate-limit.ts); a no-op until it is wired. */
export type RateLimitHook = (ctx: ProxyContext) => void | Promise<void>;

export type DecisionLabel = 'allow' | 'deny' | 'would_deny' | 'bad_request' | 'rate_limited' | 'error';

/** `authgate_requests_total{route, decision}` children, resolved once per route instead of per request. */
export class DecisionCounters {
  private readonly byRoute = new WeakMap<CompiledRoute, Map<DecisionLabel, Counter.Internal>>();
  private readonly unmatched = new Map<DecisionLabel, Counter.Internal>();

  constructor(private readonly counter: Metrics['requests']) {}

  inc(route: CompiledRoute | null, decision: DecisionLabel): void {
    let map: Map<DecisionLabel, Counter.Internal> | undefined;
    if (route === null) map = this.unmatched;
    else {
      map = this.byRoute.get(route);
      if (map === undefined) {
        map = new Map();
        this.byRoute.set(route, map);
      }
    }
    let child = map.get(decision);
    if (child === undefined) {
      child = this.counter.labels(route === null ? '(none)' : route.name, decision);
      map.set(decision, child);
    }
    child.inc();
  }
}

export interface PipelineDeps {
  readonly core: Core;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly decisions: DecisionCounters;
  readonly trusted: TrustedProxies;
  readonly policies: PolicyStore;
  readonly tokenCache: TokenCache;
  readonly live: LiveConnections;
  readonly forwarder: Forwarder;
  readonly hooks: { rateLimit: RateLimitHook };
  /** Lifetime of the optional X-Auth-Token JWT for upstreams (seconds). */
  readonly upstreamTokenTtlSeconds: number;
}

export type ContextKind = 'http' | 'upgrade' | 'forward-auth';

export class ProxyContext {
  requestId: string;
  /** The policy in force when the request arrived; a reload mid-request does not change it. */
  readonly policy: CompiledPolicy;
  /** Socket peer address (canonical) and whether it is a configured trusted proxy. */
  readonly peer: string;
  readonly peerTrusted: boolean;
  /** Normalised path (matched AND forwarded) and the raw query (forwarded verbatim, never matched). */
  path = '';
  query = '';
  match: PolicyMatch | null = null;
  route: CompiledRoute | null = null;
  token: string | null = null;
  tokenPresented = false;
  claims: VerifiedToken | null = null;
  identity: PolicyIdentity | null = null;
  decision: Decision | null = null;
  /** Set when a `mode: shadow` route would have denied: the reason; remaining decision stages are skipped. */
  shadowDenied: string | null = null;
  /** Headers sent upstream (flat [name, value, …]); for forward-auth, the identity headers answered. */
  readonly upstreamHeaders: string[] = [];
  /** RateLimit-* headers for the response, set by apply-rate-limit when a limit applied. */
  rateLimitHeaders: Record<string, string> | null = null;
  /** A renewed browser-session cookie (read-session-cookie) to send with whatever response this request gets. */
  setCookie: string | null = null;

  constructor(
    readonly deps: PipelineDeps,
    readonly req: IncomingMessage,
    requestId: string,
    readonly kind: ContextKind,
    /** Method, request-target and Host to decide on (forward-auth takes them from X-Original-* headers). */
    readonly method: string,
    readonly rawTarget: string,
    readonly host: string | null,
  ) {
    this.requestId = requestId;
    this.policy = deps.policies.current;
    this.peer = canonicalIp(req.socket.remoteAddress ?? '');
    this.peerTrusted = deps.trusted.trusts(this.peer);
  }

  get routeName(): string {
    return this.route === null ? '(none)' : this.route.name;
  }
}
