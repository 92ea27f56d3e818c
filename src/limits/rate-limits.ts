import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config, Rate } from '../config.js';
import type { Logger } from '../logger.js';
import type { ApiOperation } from '../http/openapi.js';
import { operationMatcher } from '../http/methods.js';
import { Problem } from '../http/problem.js';

/**
 * Abuse limits per class of route, per user and per client address. A refused request is a 429
 * problem with Retry-After; every limited answer tells the client where it stands with the
 * RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers).
 *
 * Where they are counted (docs/architecture.md, "Rate limits"):
 *  - Writes (signup and consent writes, admin and ops writes) and refused tokens: in PostgreSQL
 *    (rate-limiter-flexible's store, unlogged table `rate_limit`), so every API replica spends
 *    from the same budget. A write costs a transaction anyway; one upsert more is small next to it.
 *  - Public reads: in this process's memory (RateLimiterMemory), so each replica has the whole
 *    budget of its own: N replicas let one address read N x RATE_LIMIT_PUBLIC_READS_PER_ADDRESS.
 *    A read served from the response cache costs microseconds; a database round trip per read
 *    (and the dead row versions it leaves) would cost more than the read it limits. The budget
 *    guards the replica against one address's flood, which is what a per-process count can do;
 *    a shared read budget belongs to the ingress or CDN in front, which absorbs read load anyway.
 *
 * The per-address budget is taken before authentication (it also limits what anonymous callers
 * can make us do); the per-user budget once the token is verified. Failed authentication spends
 * its own per-address budget: over it, a bad token is answered 429 instead of 401.
 *
 * Cost of a shared budget: one upsert per budget a request spends from (one statement, no
 * transaction). Once a key is over its budget, this process refuses it from memory until its
 * window ends, so a flood costs the database nothing more. Should PostgreSQL fail, each process
 * counts in memory meanwhile (the insurance limiter), so the API neither fails nor stops limiting.
 */

export const rateLimitClasses = ['signup-writes', 'admin-writes', 'public-reads'] as const;
export type RateLimitClass = (typeof rateLimitClasses)[number];

const signupWrites = new Set(['requestSignup', 'confirmSignup', 'cancelSignup', 'decideConsent']);

/** The class of an operation of the API document, from its descriptor; undefined: not limited (but for failed authentication). */
export function rateLimitClassOf(op: Pick<ApiOperation, 'operationId' | 'method' | 'path' | 'auth'>): RateLimitClass | undefined {
  if (signupWrites.has(op.operationId)) return 'signup-writes';
  if (op.method !== 'get' && (op.path.startsWith('/v1/admin/') || op.path.startsWith('/v1/ops/'))) return 'admin-writes';
  if (op.method === 'get' && op.auth === 'public' && op.path.startsWith('/v1/')) return 'public-reads';
  return undefined;
}

type Budget = { name: string; limiter: RateLimiterPostgres | RateLimiterMemory; rate: Rate };

export interface RateLimits {
  /** Express middleware, before the routes: finds the request's class and spends its per-address budget. */
  byAddress: RequestHandler;
  /** After a token verified: spends the per-user budget of the request's class. */
  afterAuthentication(req: Request, res: Response, userId: string): Promise<void>;
  /** After a token was refused: spends the failed-authentication budget; throws 429 when it is gone. */
  afterFailedAuthentication(req: Request, res: Response): Promise<void>;
  close(): Promise<void>;
}

/** application_name of the limiter's connections (pg_stat_activity shows whose they are). */
export const RATE_LIMITS_APPLICATION_NAME = 'eventbook-rate-limits';

/** Connections of the limiter's pool per API process (on top of DATABASE_POOL_MAX; idle ones close after 10 s). */
const RATE_LIMITS_POOL_MAX = 16;

export function createRateLimits(deps: {
  databaseUrl: string;
  settings: Config['rateLimits'];
  operations: readonly ApiOperation[];
  logger?: Pick<Logger, 'warn'>;
}): RateLimits {
  // A pool of its own: a limiter statement never waits behind a long transaction for a connection.
  // Each signup write spends two budgets (address, user) before its transaction, one statement
  // each: with too few connections, a burst queues here instead of in the database.
  const pool = new pg.Pool({ connectionString: deps.databaseUrl, max: RATE_LIMITS_POOL_MAX, allowExitOnIdle: true, application_name: RATE_LIMITS_APPLICATION_NAME });
  // An idle connection that PostgreSQL ends (a restart, a failover) emits 'error' on the pool; unheard,
  // it would end the process. The pool drops that connection and opens another on the next request,
  // and meanwhile the in-memory insurance limiter counts.
  pool.on('error', (error) => {
    deps.logger?.warn({ err: error }, 'rate limits: PostgreSQL ended an idle connection; the next request opens another');
  });
  /** Counted in PostgreSQL: one budget for every replica. */
  const shared = (name: string, rate: Rate): Budget | undefined => {
    if (rate.points <= 0) return undefined;
    const limiter = new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      tableName: 'rate_limit',
      tableCreated: true, // by the migration (src/db/migrations)
      keyPrefix: name,
      points: rate.points,
      duration: rate.seconds,
      // Refused from memory, without a statement, for the rest of the window once over budget.
      inMemoryBlockOnConsumed: rate.points + 1,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points: rate.points, duration: rate.seconds }),
    });
    return { name, limiter, rate };
  };
  /** Counted in this process's memory: a budget per replica. */
  const perProcess = (name: string, rate: Rate): Budget | undefined =>
    rate.points > 0 ? { name, rate, limiter: new RateLimiterMemory({ keyPrefix: name, points: rate.points, duration: rate.seconds }) } : undefined;
  const s = deps.settings;
  const perAddress: Record<RateLimitClass, Budget | undefined> = {
    'signup-writes': shared('signup-address', s.signupPerAddress),
    'admin-writes': shared('admin-address', s.adminPerAddress),
    'public-reads': perProcess('public-address', s.publicReadsPerAddress),
  };
  const perUser: Record<RateLimitClass, Budget | undefined> = {
    'signup-writes': shared('signup-user', s.signupPerUser),
    'admin-writes': shared('admin-user', s.adminPerUser),
    'public-reads': undefined,
  };
  // Shared: a guesser spreading bad tokens over the replicas must not get N times the guesses.
  const authFailures = shared('auth-failures-address', s.authFailuresPerAddress);

  const match = operationMatcher(deps.operations);
  const classes = new WeakMap<Request, RateLimitClass>();

  async function spend(item: Budget, key: string, res: Response): Promise<void> {
    let result: RateLimiterRes;
    let refused = false;
    try {
      result = await item.limiter.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      result = error;
      refused = true;
    }
    const resetSeconds = Math.max(1, Math.ceil(result.msBeforeNext / 1000));
    appendHeader(res, 'RateLimit-Policy', `"${item.name}";q=${item.rate.points};w=${item.rate.seconds}`);
    appendHeader(res, 'RateLimit', `"${item.name}";r=${Math.max(0, result.remainingPoints)};t=${resetSeconds}`);
    if (refused) {
      throw new Problem('rate-limited', `too many requests (${item.name}: ${item.rate.points} per ${item.rate.seconds} s); try again in ${resetSeconds} s`, {
        headers: { 'Retry-After': String(resetSeconds) },
      });
    }
  }

  return {
    byAddress: (req, res, next) => {
      const op = match(req.method === 'HEAD' ? 'GET' : req.method, req.path);
      const kind = op ? rateLimitClassOf(op) : undefined;
      if (!kind) {
        next();
        return;
      }
      classes.set(req, kind);
      const item = perAddress[kind];
      if (!item) {
        next();
        return;
      }
      spend(item, addressOf(req), res).then(() => next(), next);
    },
    async afterAuthentication(req, res, userId) {
      const kind = classes.get(req);
      const item = kind ? perUser[kind] : undefined;
      // A digest, not the user id: the table then holds nothing that points to a person (docs/privacy.md).
      if (item) await spend(item, pseudonymOf(userId), res);
    },
    async afterFailedAuthentication(req, res) {
      if (authFailures) await spend(authFailures, addressOf(req), res);
    },
    async close() {
      await pool.end();
    },
  };
}

/** A stable key for a user's budget that does not name them (SHA-256, 128 bits). */
function pseudonymOf(userId: string): string {
  return createHash('sha256').update(userId).digest('base64url').slice(0, 22);
}

/** The client's address as Express reports it: the socket's peer, or X-Forwarded-For behind a trusted proxy (TRUST_PROXY). */
function addressOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

function appendHeader(res: Response, name: string, item: string): void {
  const current = res.getHeader(name);
  res.setHeader(name, current ? `${String(current)}, ${item}` : item);
}
