import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config, Rate } from '../config.js';
import type { Logger } from '../logger.js';
import type { ApiOperation } from '../http/openapi.js';
import { operationMatcher } from '../http/methods.js';
import { Problem } from '../http/problem.js';
import { createDoorBatcher } from '../signups/door-batcher.js';

/**
 * Abuse limits per class of route, per user and per client address. A refused request is a 429
 * problem with Retry-After; every limited answer tells the client where it stands with the
 * RateLimit-Policy and RateLimit headers (draft-ietf-httpapi-ratelimit-headers).
 *
 * Where they are counted (docs/architecture.md, "Rate limits"):
 *  - Writes (signup and consent writes, admin and ops writes) and refused tokens: in PostgreSQL
 *    (unlogged table `rate_limit`, rate-limiter-flexible's layout), so every API replica spends
 *    from the same budget.
 *  - Public reads: in this process's memory (RateLimiterMemory), so each replica has the whole
 *    budget of its own: N replicas let one address read N x RATE_LIMIT_PUBLIC_READS_PER_ADDRESS.
 *    A read served from the response cache costs microseconds; a database round trip per read
 *    (and the dead row versions it leaves) would cost more than the read it limits. The budget
 *    guards the replica against one address's flood, which is what a per-process count can do;
 *    a shared read budget belongs to the ingress or CDN in front, which absorbs read load anyway.
 *
 * A write spends its per-address and its per-user budget together, once the token is verified, in
 * one statement with the other writes waiting in this process (`createWriteCounter`): a statement
 * per budget made a signup wait for two, and a statement per write made a burst from one address
 * queue on that address's row. Before authentication the middleware only looks at this process's memory: an
 * address already over its budget for the rest of its window is refused there, with no statement.
 * A write route that takes no token (a guardian's decision) spends its per-address budget in the
 * middleware, as the only budget it has. A request without a valid token never reaches the write
 * budgets; a refused token spends the failed-authentication budget (rate-limiter-flexible's own
 * PostgreSQL store): over it, a bad token is answered 429 instead of 401.
 *
 * Once a key is over its budget, this process refuses it from memory until its window ends: an
 * address's flood then costs the database nothing more; a user over budget still spends its
 * address's budget (a one-row statement), as when each budget had a statement of its own. Should
 * PostgreSQL fail, each budget counts in this process's memory meanwhile (the insurance limiters),
 * so the API neither fails nor stops limiting.
 */

export const rateLimitClasses = ['signup-writes', 'admin-writes', 'public-reads'] as const;
export type RateLimitClass = (typeof rateLimitClasses)[number];

// The consent page's form (answerConsentPage) is the HTML twin of decideConsent: the same write, the same budget.
const signupWrites = new Set(['requestSignup', 'confirmSignup', 'cancelSignup', 'decideConsent', 'answerConsentPage']);
/** Pages for people outside /v1/, read like the public API. */
const publicPages = new Set(['showConsentPage']);

/** The class of an operation of the API document, from its descriptor; undefined: not limited (but for failed authentication). */
export function rateLimitClassOf(op: Pick<ApiOperation, 'operationId' | 'method' | 'path' | 'auth'>): RateLimitClass | undefined {
  if (signupWrites.has(op.operationId)) return 'signup-writes';
  if (op.method !== 'get' && (op.path.startsWith('/v1/admin/') || op.path.startsWith('/v1/ops/'))) return 'admin-writes';
  if (op.method === 'get' && op.auth === 'public' && (op.path.startsWith('/v1/') || publicPages.has(op.operationId))) return 'public-reads';
  return undefined;
}

/** Counted by a rate-limiter-flexible limiter: public reads in memory, refused tokens in its PostgreSQL store. */
type LibraryBudget = { name: string; limiter: RateLimiterPostgres | RateLimiterMemory; rate: Rate };

/** A write budget, counted in PostgreSQL by `countInPostgres`. */
interface WriteBudget {
  /** The key prefix of its rows (`<name>:<key>`), and its name in the headers and the 429. */
  name: string;
  rate: Rate;
  /** Keys over budget for the rest of their window (`block`/`get`): refused with no statement. */
  blocked: RateLimiterMemory;
  /** Counts while PostgreSQL fails. */
  insurance: RateLimiterMemory;
}

interface Spend<Budget extends CountedBudget = WriteBudget> {
  budget: Budget;
  key: string;
}

/** What the write counter needs of a budget. */
export type CountedBudget = Pick<WriteBudget, 'name' | 'rate'>;

export interface Outcome<Budget extends CountedBudget = WriteBudget> extends Spend<Budget> {
  result: RateLimiterRes;
  refused: boolean;
}

/** What the middleware leaves for `afterAuthentication`: a write's class, and its address when that budget is still to spend. */
interface Pending {
  kind: RateLimitClass;
  address?: string;
}

export interface RateLimits {
  /**
   * Express middleware, before the routes: finds the request's class; spends a public read's
   * budget; refuses from memory a write from an address over its budget; spends the per-address
   * budget of a write route that takes no token.
   */
  byAddress: RequestHandler;
  /** After a token verified: spends the write's per-address and per-user budgets, in one statement (shared with the writes waiting beside it). */
  afterAuthentication(req: Request, res: Response, userId: string): Promise<void>;
  /** After a token was refused: spends the failed-authentication budget; throws 429 when it is gone. */
  afterFailedAuthentication(req: Request, res: Response): Promise<void>;
  close(): Promise<void>;
}

/** application_name of the limiter's connections (pg_stat_activity shows whose they are). */
export const RATE_LIMITS_APPLICATION_NAME = 'eventbook-rate-limits';

/** Connections of the limiter's pool per API process, at most (on top of DATABASE_POOL_MAX, and no more than it; idle ones close after 10 s). */
const RATE_LIMITS_POOL_MAX = 16;

/** Rows whose window ended an hour ago are deleted every 5 minutes (what rate-limiter-flexible's store does). */
const CLEAR_EXPIRED_EVERY_MS = 5 * 60_000;
const CLEAR_EXPIRED_AFTER_MS = 60 * 60_000;

export function createRateLimits(deps: {
  databaseUrl: string;
  /** The API's DATABASE_POOL_MAX: the limiter's pool is no larger (a process sized down stays so). */
  poolMax?: number;
  settings: Config['rateLimits'];
  operations: readonly ApiOperation[];
  logger?: Pick<Logger, 'warn'>;
}): RateLimits {
  // A pool of its own: a limiter statement never waits behind a long transaction for a connection.
  // The write counter uses one connection at a time; the failed-authentication store one per refused token.
  const max = Math.min(RATE_LIMITS_POOL_MAX, deps.poolMax ?? RATE_LIMITS_POOL_MAX);
  const pool = new pg.Pool({ connectionString: deps.databaseUrl, max, allowExitOnIdle: true, application_name: RATE_LIMITS_APPLICATION_NAME });
  // An idle connection that PostgreSQL ends (a restart, a failover) emits 'error' on the pool; unheard,
  // it would end the process. The pool drops that connection and opens another on the next request,
  // and meanwhile the in-memory insurance limiters count.
  pool.on('error', (error) => {
    deps.logger?.warn({ err: error }, 'rate limits: PostgreSQL ended an idle connection; the next request opens another');
  });
  /** Counted in PostgreSQL by one statement with the other budget of the write. */
  const write = (name: string, rate: Rate): WriteBudget | undefined => {
    if (rate.points <= 0) return undefined;
    const memory = () => new RateLimiterMemory({ keyPrefix: name, points: rate.points, duration: rate.seconds });
    return { name, rate, blocked: memory(), insurance: memory() };
  };
  /** Counted in this process's memory: a budget per replica. */
  const perProcess = (name: string, rate: Rate): LibraryBudget | undefined =>
    rate.points > 0 ? { name, rate, limiter: new RateLimiterMemory({ keyPrefix: name, points: rate.points, duration: rate.seconds }) } : undefined;
  const s = deps.settings;
  const writesPerAddress: Partial<Record<RateLimitClass, WriteBudget>> = {
    'signup-writes': write('signup-address', s.signupPerAddress),
    'admin-writes': write('admin-address', s.adminPerAddress),
  };
  const writesPerUser: Partial<Record<RateLimitClass, WriteBudget>> = {
    'signup-writes': write('signup-user', s.signupPerUser),
    'admin-writes': write('admin-user', s.adminPerUser),
  };
  const readsPerAddress = perProcess('public-address', s.publicReadsPerAddress);
  /** Counted in PostgreSQL by the library's own store (one key per statement). */
  const sharedInLibrary = (name: string, rate: Rate): LibraryBudget | undefined =>
    rate.points > 0
      ? {
          name,
          rate,
          limiter: new RateLimiterPostgres({
            storeClient: pool,
            storeType: 'pool',
            tableName: 'rate_limit',
            tableCreated: true, // by the migration (src/db/migrations)
            clearExpiredByTimeout: false, // clearExpired below, for every budget in the table
            keyPrefix: name,
            points: rate.points,
            duration: rate.seconds,
            // Refused from memory, without a statement, for the rest of the window once over budget.
            inMemoryBlockOnConsumed: rate.points + 1,
            insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points: rate.points, duration: rate.seconds }),
          }),
        }
      : undefined;
  // Shared: a guesser spreading bad tokens over the replicas must not get N times the guesses.
  // One budget on its own, spent on a path no write budget is: the library's store as it is.
  const authFailures = sharedInLibrary('auth-failures-address', s.authFailuresPerAddress);
  const anyInPostgres = [...Object.values(writesPerAddress), ...Object.values(writesPerUser), authFailures].some(Boolean);
  const clearExpired = anyInPostgres
    ? setInterval(() => {
        // Not critical: a failure leaves the rows for the next round.
        pool.query({ text: 'delete from rate_limit where expire < $1', values: [Date.now() - CLEAR_EXPIRED_AFTER_MS] }).catch(() => {});
      }, CLEAR_EXPIRED_EVERY_MS).unref()
    : undefined;

  const match = operationMatcher(deps.operations);
  const pending = new WeakMap<Request, Pending>();
  const countWrites = createWriteCounter<WriteBudget>(pool);

  /** A library limiter's budget: spends one point, sets the headers, throws 429 when it is gone. */
  async function spend(item: LibraryBudget, key: string, res: Response): Promise<void> {
    let result: RateLimiterRes;
    let refused = false;
    try {
      result = await item.limiter.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      result = error;
      refused = true;
    }
    tell(res, item, result);
    if (refused) throw tooMany(item, result);
  }

  /** The key's refusal when this process knows it is over budget for the rest of its window. */
  async function refusedFromMemory({ budget, key }: Spend): Promise<RateLimiterRes | undefined> {
    const known = await budget.blocked.get(key);
    return known && known.consumedPoints > budget.rate.points && known.msBeforeNext > 0 ? new RateLimiterRes(0, known.msBeforeNext, known.consumedPoints) : undefined;
  }

  /**
   * Spends write budgets in their order (address, then user): the first one this process knows to
   * be over ends the walk (nothing after it is spent, as when each budget was spent on its own in
   * turn); the ones before it are counted together in one statement. Sets the headers of every
   * budget it looked at; throws 429 for the first one refused.
   */
  async function spendWrites(res: Response, spends: readonly Spend[]): Promise<void> {
    if (spends.length === 0) return;
    const known = await Promise.all(spends.map(refusedFromMemory));
    const firstKnown = known.findIndex(Boolean);
    const counted = firstKnown === -1 ? spends : spends.slice(0, firstKnown);
    const outcomes = counted.length > 0 ? await count(counted) : [];
    if (firstKnown !== -1) outcomes.push({ ...spends[firstKnown]!, result: known[firstKnown]!, refused: true });
    for (const { budget, result } of outcomes) tell(res, budget, result);
    const refusal = outcomes.find((outcome) => outcome.refused);
    if (refusal) throw tooMany(refusal.budget, refusal.result);
  }

  /** One point of each budget, in PostgreSQL (else in memory); a key found over budget is blocked in memory for the rest of its window. */
  async function count(spends: readonly Spend[]): Promise<Outcome[]> {
    let outcomes: Outcome[];
    try {
      outcomes = await countWrites(spends);
    } catch {
      // PostgreSQL down or failing: this process counts alone meanwhile (what the library's insurance limiter does).
      outcomes = await Promise.all(spends.map(countInMemory));
    }
    for (const { budget, key, result, refused } of outcomes) {
      if (refused && result.msBeforeNext > 0) await budget.blocked.block(key, result.msBeforeNext / 1000);
    }
    return outcomes;
  }

  return {
    byAddress: (req, res, next) => {
      const op = match(req.method === 'HEAD' ? 'GET' : req.method, req.path);
      const kind = op ? rateLimitClassOf(op) : undefined;
      if (!kind) {
        next();
        return;
      }
      if (kind === 'public-reads') {
        if (readsPerAddress) spend(readsPerAddress, addressOf(req), res).then(() => next(), next);
        else next();
        return;
      }
      const address = writesPerAddress[kind];
      const key = addressOf(req);
      if (op?.auth === 'public') {
        // No token follows (a guardian's decision: the link is the credential): the address's budget is all there is.
        spendWrites(res, address ? [{ budget: address, key }] : []).then(() => next(), next);
        return;
      }
      pending.set(req, { kind, address: address ? key : undefined });
      if (!address) {
        next();
        return;
      }
      // Over budget already: refused from memory, before the token is even looked at.
      refusedFromMemory({ budget: address, key })
        .then((known) => {
          if (!known) return;
          tell(res, address, known);
          throw tooMany(address, known);
        })
        .then(() => next(), next);
    },
    async afterAuthentication(req, res, userId) {
      const write = pending.get(req);
      if (!write) return;
      // Once per request, whatever guards a route stacks.
      pending.delete(req);
      const spends: Spend[] = [];
      const address = writesPerAddress[write.kind];
      if (address && write.address !== undefined) spends.push({ budget: address, key: write.address });
      const user = writesPerUser[write.kind];
      // A digest, not the user id: the table then holds nothing that points to a person (docs/privacy.md).
      if (user) spends.push({ budget: user, key: pseudonymOf(userId) });
      await spendWrites(res, spends);
    },
    async afterFailedAuthentication(req, res) {
      if (authFailures) await spend(authFailures, addressOf(req), res);
    },
    async close() {
      clearInterval(clearExpired);
      await pool.end();
    },
  };
}

/** Most writes one statement counts (each spends one or two budgets). */
const MOST_WRITES_PER_STATEMENT = 500;

/**
 * Counts write budgets in PostgreSQL, the writes waiting in this process together (the door's
 * batcher, one key, no window): one statement at a time, and the writes that arrive while it runs
 * go in the next one, as soon as it returns. Every write from one client address spends that
 * address's row: one statement per write made the row a queue of its own under a burst (each
 * holding a pooled connection while it waits for the row lock). A batch adds each row's points at
 * once, and each write gets the count it would have had alone, in arrival order, so the shared
 * budget stays exact across replicas.
 */
export function createWriteCounter<Budget extends CountedBudget>(pool: pg.Pool): (spends: readonly Spend<Budget>[]) => Promise<Outcome<Budget>[]> {
  let writeNumber = 0;
  const batcher = createDoorBatcher<readonly Spend<Budget>[], Outcome<Budget>[]>({
    windowMs: 0,
    maxBatch: MOST_WRITES_PER_STATEMENT,
    run: (_, writes) => countInPostgres(pool, writes),
    // One user's writes may share a batch: each gets its own count, in order.
    distinct: () => String((writeNumber += 1)),
  });
  return (spends) => batcher.submit('writes', spends);
}

/**
 * The points of several writes' budgets in one statement: rate-limiter-flexible's PostgreSQL upsert
 * (node_modules/rate-limiter-flexible/lib/RateLimiterPostgres.js, `_upsert`) with a row per budget
 * key. A row is `<prefix>:<key>`; within its window (`expire`, epoch ms) the points are added, once
 * the window has passed the row starts over at these points with a new window. A write's own count
 * is the row's count before the statement plus its place among the batch's writes of that key.
 * Raw SQL because the library writes one key per statement and this is a conditional write of many;
 * values are parameters only (arrays, so the statement has one shape and is prepared once per
 * connection). Rows are written in key order, so two of these statements (another replica's) never
 * wait on each other in a cycle.
 */
async function countInPostgres<Budget extends CountedBudget>(pool: pg.Pool, writes: readonly (readonly Spend<Budget>[])[]): Promise<Outcome<Budget>[][]> {
  const now = Date.now();
  const added = new Map<string, { points: number; expire: number }>();
  for (const spends of writes) {
    for (const { budget, key } of spends) {
      const row = added.get(rowKey(budget, key));
      if (row) row.points += 1;
      else added.set(rowKey(budget, key), { points: 1, expire: now + budget.rate.seconds * 1000 });
    }
  }
  const keys = [...added.keys()].sort();
  const { rows: counted } = await pool.query<{ key: string; points: number; expire: string | null }>({
    name: 'rate-limits-spend',
    text: `insert into rate_limit as r (key, points, expire)
      select key, points, expire from unnest($2::text[], $3::int[], $4::bigint[]) as spend(key, points, expire) order by key
      on conflict (key) do update set
        points = case when r.expire <= $1 then excluded.points else r.points + excluded.points end,
        expire = case when r.expire <= $1 then excluded.expire else r.expire end
      returning key, points, expire`,
    values: [now, keys, keys.map((key) => added.get(key)!.points), keys.map((key) => added.get(key)!.expire)],
  });
  /** Each row's count before this statement's points, then each write's own count as it is handed out. */
  const before = new Map<string, { points: number; expire: string | null }>();
  for (const row of counted) before.set(row.key, { points: row.points - added.get(row.key)!.points, expire: row.expire });
  return writes.map((spends) =>
    spends.map((spend) => {
      const row = before.get(rowKey(spend.budget, spend.key));
      if (!row) throw new Error(`rate limits: no row returned for ${spend.budget.name}`);
      row.points += 1;
      // As the library reads its row back (`_getRateLimiterRes`).
      const msBeforeNext = row.expire === null ? -1 : Math.max(Number(row.expire) - Date.now(), 0);
      const result = new RateLimiterRes(Math.max(spend.budget.rate.points - row.points, 0), msBeforeNext, row.points, row.points === 1);
      return { ...spend, result, refused: row.points > spend.budget.rate.points };
    }),
  );
}

async function countInMemory(spend: Spend): Promise<Outcome> {
  try {
    return { ...spend, result: await spend.budget.insurance.consume(spend.key), refused: false };
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    return { ...spend, result: error, refused: true };
  }
}

/** The row's key, as rate-limiter-flexible writes it (`getKey`). */
function rowKey(budget: CountedBudget, key: string): string {
  return `${budget.name}:${key}`;
}

/** Where the budget stands, on the answer (draft-ietf-httpapi-ratelimit-headers). */
function tell(res: Response, budget: { name: string; rate: Rate }, result: RateLimiterRes): void {
  appendHeader(res, 'RateLimit-Policy', `"${budget.name}";q=${budget.rate.points};w=${budget.rate.seconds}`);
  appendHeader(res, 'RateLimit', `"${budget.name}";r=${Math.max(0, result.remainingPoints)};t=${resetSecondsOf(result)}`);
}

function tooMany(budget: { name: string; rate: Rate }, result: RateLimiterRes): Problem {
  const resetSeconds = resetSecondsOf(result);
  return new Problem('rate-limited', `too many requests (${budget.name}: ${budget.rate.points} per ${budget.rate.seconds} s); try again in ${resetSeconds} s`, {
    headers: { 'Retry-After': String(resetSeconds) },
  });
}

function resetSecondsOf(result: RateLimiterRes): number {
  return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
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
