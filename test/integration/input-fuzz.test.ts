/**
 * Bad input never makes a 5xx, and a refused request writes nothing. Requests are generated with
 * fast-check from the document served at /openapi.json: every operation, with valid-ish and
 * malformed path parameters (bad percent-encoding, NUL, lone surrogates), queries, headers and
 * bodies (schema-shaped values, broken JSON, wrong media types, a Content-Encoding that is not
 * applied), plus wrong methods on known paths. They run one at a time against the real app on its
 * own throwaway database (real PostgreSQL and Temporal of the test stack), so every change of a
 * table during a refused request is that request's.
 *
 * FUZZ_RUNS sets the number of cases (default 10,000); FUZZ_SEED replays a run (the seed is
 * printed with any failure).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import fc from 'fast-check';
import { createTokenVerifier, mintDevToken } from '../../src/auth/tokens.js';
import type { Role } from '../../src/auth/principal.js';
import { createConsentToken } from '../../src/consents/consent-token.js';
import { dropDatabase, ensureDatabase, withDatabaseName } from '../../src/db/admin.js';
import { migrateToLatest, openOrm, type MikroORM } from '../../src/db/orm.js';
import { createApp, rateLimitsOf, statusFeedOf, workflowStarterOf } from '../../src/http/app.js';
import { createApiServer } from '../../src/http/server.js';
import type { OpenApiDocument } from '../../src/http/openapi.js';
import { createLogger } from '../../src/logger.js';
import { benchRateLimitEnv } from '../../src/limits/bench-settings.js';
import type { Config } from '../../src/config.js';
import { requireEnv } from '../support/environment.js';
import { insertSignupRow } from '../support/signup-rows.js';
import { connectTestClient, insertEvent, testConfig } from '../support/stack.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);

/**
 * Tables a refused request may change on purpose: the ops audit log records refused operator
 * actions (that is its job); the signup and lifecycle outboxes are emptied in the background after
 * an earlier accepted request; the rate limiter counts refused requests too (that is its job).
 */
const WRITTEN_ON_PURPOSE: Record<string, (path: string) => boolean> = {
  ops_audit: (path) => path.startsWith('/v1/ops/'),
  signup_workflow_start: () => true,
  event_lifecycle_command: () => true,
  rate_limit: () => true,
};

type JsonSchema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: JsonSchema;
  example?: unknown;
  roles?: Role[];
  signedIn: boolean;
}
interface FuzzRequest {
  /** The operation it was made from, e.g. `POST /v1/events/{eventId}/signups`. */
  operation?: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Strings that broke things before, or could: NUL, lone surrogates, odd Unicode, long, SQL-ish. */
const nastyStrings = fc.oneof(
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\uD800',
    'x\uDC00y',
    '\uDBFF\uDBFF',
    '',
    ' ',
    '%',
    '%00',
    '%ZZ',
    '\u202E\uFEFF',
    '🎉 ok',
    "'; drop table signup; --",
    '../../etc/passwd',
    'null',
    '-1',
    '1e309',
    'x'.repeat(3000),
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
/** Raw pieces of a path or query that do not decode as UTF-8 percent-encoding. */
const badEncodings = fc.constantFrom('%ZZ', '%C0%AF', '%ED%A0%80', '%', '%E2%82', '%FF', '%00', '%u0041', '%%');

/** Percent-encodes the UTF-8 bytes of a string (lone surrogates become U+FFFD, as a client would send). */
function encodePart(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/** A latin1 header value Node's client will send (no control characters), possibly odd. */
const headerValue = fc.oneof(
  fc.string({ maxLength: 60 }).map((value) => value.replace(/[^\t\x20-\x7e]/g, '')),
  fc.constantFrom('\u00ff\u00fe', '%00', 'ÿ', ' ', 'x'.repeat(2000), '"v1"', 'W/"x"', '*'),
);

function resolve(doc: OpenApiDocument, schema: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    return resolve(doc, doc.components.schemas[name] ?? {});
  }
  return schema;
}

/** A value shaped by a JSON Schema (mostly valid, with nasty strings mixed in), bounded in depth and size. */
function fromSchema(doc: OpenApiDocument, input: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(doc, input);
  if (depth > 5) return fc.constant(null);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) return fc.oneof(...branches.map((branch: JsonSchema) => fromSchema(doc, branch, depth + 1)));
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) return fromSchema(doc, schema.allOf[0] as JsonSchema, depth + 1);
  const type = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  const arbitraries = type.map((one): fc.Arbitrary<unknown> => {
    switch (one) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer': {
        const min = typeof schema.minimum === 'number' ? schema.minimum : -5;
        const max = typeof schema.maximum === 'number' ? schema.maximum : min + 100;
        return fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max: Math.max(min, Math.min(max, min + 1000)) }) }, fc.constantFrom(-1, 0, 2 ** 31, 1.5));
      }
      case 'number':
        return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.constantFrom(0, -1));
      case 'array': {
        const items = (schema.items as JsonSchema | undefined) ?? {};
        const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
        return fc.array(fromSchema(doc, items, depth + 1), { minLength, maxLength: Math.max(minLength, 3) });
      }
      case 'object':
        return objectFromSchema(doc, schema, depth);
      case 'string':
        return stringFromSchema(schema);
      default:
        return fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(null));
    }
  });
  return arbitraries.length === 1 ? arbitraries[0]! : fc.oneof(...arbitraries);
}

function objectFromSchema(doc: OpenApiDocument, schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const entries = Object.entries(properties).map(([name, property]) => {
    const value = fromSchema(doc, property, depth + 1);
    return [name, required.has(name) ? value : fc.option(value, { nil: undefined, freq: 2 })] as const;
  });
  const shaped = fc.record(Object.fromEntries(entries));
  if (schema.additionalProperties !== undefined && typeof schema.additionalProperties === 'object') {
    const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fromSchema(doc, schema.additionalProperties as JsonSchema, depth + 1), { maxKeys: 2 });
    return fc.tuple(shaped, extra).map(([own, more]) => stripUndefined({ ...more, ...own }));
  }
  return shaped.map(stripUndefined);
}

function stripUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, child]) => child !== undefined));
}

function stringFromSchema(schema: JsonSchema): fc.Arbitrary<string> {
  const maxLength = typeof schema.maxLength === 'number' ? Math.min(schema.maxLength, 80) : 30;
  const minLength = typeof schema.minLength === 'number' ? Math.min(schema.minLength, maxLength) : 0;
  let valid: fc.Arbitrary<string>;
  switch (schema.format) {
    case 'uuid':
      valid = fc.uuid();
      break;
    case 'date-time':
      valid = fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((date) => date.toISOString());
      break;
    case 'date':
      valid = fc.date({ min: new Date('1990-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10));
      break;
    case 'email':
      valid = fc.emailAddress();
      break;
    case 'uri':
      valid = fc.webUrl();
      break;
    default:
      valid =
        typeof schema.pattern === 'string'
          ? fc.stringMatching(new RegExp(schema.pattern)).filter((value) => value.length <= 200)
          : fc.string({ minLength, maxLength });
  }
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: nastyStrings });
}

/** Everything the generated requests can point at: real rows, tokens of every role, and strangers. */
interface Fixtures {
  eventIds: string[];
  signupIds: string[];
  consentTokens: string[];
  tokens: Record<Role | 'stranger', string>;
}

function pathValue(name: string, fixtures: Fixtures): fc.Arbitrary<string> {
  const known: Record<string, string[]> = {
    eventId: fixtures.eventIds,
    signupId: fixtures.signupIds,
    token: fixtures.consentTokens,
    workflowId: fixtures.signupIds.map((id) => `signup-${id}`).concat(fixtures.eventIds.map((id) => `event-${id}`)),
    kind: ['category', 'market'],
    value: ['workshop', 'NO'],
    slug: ['validation-error', 'not-found'],
  };
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(known[name] ?? ['x'])).map(encodePart) },
    { weight: 1, arbitrary: fc.uuid().map(encodePart) },
    { weight: 2, arbitrary: nastyStrings.map(encodePart) },
    { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 5 }), badEncodings).map(([prefix, bad]) => `${encodePart(prefix)}${bad}`) },
  );
}

function queryString(doc: OpenApiDocument, op: Operation): fc.Arbitrary<string> {
  const params = op.parameters.filter((param) => param.in === 'query');
  const pairs = params.map((param) =>
    fc.option(
      fc.oneof(
        { weight: 4, arbitrary: fromSchema(doc, param.schema).map((value) => `${param.name}=${encodePart(String(value))}`) },
        { weight: 1, arbitrary: badEncodings.map((bad) => `${param.name}=${bad}`) },
        { weight: 1, arbitrary: nastyStrings.map((value) => `${param.name}=${encodePart(value)}`) },
      ),
      { nil: undefined, freq: 2 },
    ),
  );
  const unknown = fc.option(fc.oneof(fc.constant('unknownParam=1'), badEncodings.map((bad) => `${bad}=1`), fc.constant('q=a&q=b')), { nil: undefined, freq: 8 });
  return fc.tuple(fc.tuple(...pairs), unknown).map(([chosen, extra]) => {
    const parts = [...chosen, extra].filter((part): part is string => part !== undefined);
    return parts.length ? `?${parts.join('&')}` : '';
  });
}

function authorization(op: Operation, fixtures: Fixtures): fc.Arbitrary<string | undefined> {
  const fitting = op.roles?.[0] ?? 'participant';
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${fixtures.tokens[fitting]}`) },
    { weight: 1, arbitrary: fc.constant(`Bearer ${fixtures.tokens.stranger}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: headerValue.map((value) => `Bearer ${value}`) },
    { weight: 1, arbitrary: fc.constantFrom('Basic abc', 'Bearer', 'bearer a.b.c', `Bearer ${fixtures.tokens.participant}x`) },
  );
}

function bodyFor(doc: OpenApiDocument, op: Operation): fc.Arbitrary<{ body?: Buffer; headers: Record<string, string> }> {
  const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)), headers: { 'content-type': 'application/json' } });
  const shaped = op.body ? fromSchema(doc, op.body) : fc.constant({});
  const withExample = op.example !== undefined ? fc.oneof(shaped, fc.constant(op.example)) : shaped;
  const variants: fc.Arbitrary<{ body?: Buffer; headers: Record<string, string> }>[] = [
    withExample.map(json),
    fc.constantFrom('{', '{"a":', '[1,2', 'nul', '{"a":"\\ud800"}', '\u0000', '{"__proto__":{"x":1}}').map((text) => ({
      body: Buffer.from(text),
      headers: { 'content-type': 'application/json' },
    })),
    fc.oneof(fc.constant(null), fc.constant([]), fc.constant('text'), fc.integer(), fc.dictionary(fc.string({ maxLength: 5 }), nastyStrings, { maxKeys: 3 })).map(json),
    withExample.map((value) => ({ body: Buffer.from(JSON.stringify(value)), headers: { 'content-type': 'text/plain' } })),
    fc.tuple(withExample, fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown')).map(([value, encoding]) => ({
      body: Buffer.from(JSON.stringify(value)),
      headers: { 'content-type': 'application/json', 'content-encoding': encoding },
    })),
  ];
  if (!op.body) variants.push(fc.constant({ headers: {} }), fc.constant({ headers: {} }), fc.constant({ headers: {} }));
  return fc.oneof(...variants);
}

function requestsFor(doc: OpenApiDocument, op: Operation, fixtures: Fixtures): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((param) => param.in === 'path');
  const headerParams = op.parameters.filter((param) => param.in === 'header' && param.name !== 'X-Request-Id');
  const path = fc.tuple(...pathParams.map((param) => pathValue(param.name, fixtures))).map((values) =>
    pathParams.reduce((built, param, index) => built.replace(`{${param.name}}`, values[index] ?? ''), op.path),
  );
  const headers = fc.tuple(
    ...headerParams.map((param) =>
      fc.option(fc.oneof(fromSchema(doc, param.schema).map(String), headerValue).map((value) => [param.name, value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '')] as const), {
        nil: undefined,
        freq: 3,
      }),
    ),
  );
  const method = fc.oneof(
    { weight: 12, arbitrary: fc.constant(op.method) },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
  );
  return fc
    .record({ method, path, query: queryString(doc, op), auth: authorization(op, fixtures), headers, body: bodyFor(doc, op), requestId: fc.option(headerValue, { freq: 6, nil: undefined }) })
    .map(({ method: chosen, path: built, query, auth, headers: documented, body, requestId }) => {
      const all: Record<string, string> = { ...body.headers };
      if (auth !== undefined) all.authorization = auth;
      if (requestId !== undefined) all['x-request-id'] = requestId;
      for (const header of documented) if (header) all[header[0].toLowerCase()] = header[1];
      return { operation: `${chosen}${chosen === op.method ? '' : ` (for ${op.method})`} ${op.path}`, method: chosen, path: built + query, headers: all, ...(body.body ? { body: body.body } : {}) };
    });
}

function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, raw]) => {
      const operation = raw as {
        parameters?: (Parameter | { $ref: string })[];
        requestBody?: { content?: Record<string, { schema?: JsonSchema; example?: unknown }> };
        security?: unknown[];
        'x-required-roles'?: Role[];
      };
      const parameters = (operation.parameters ?? []).filter((param): param is Parameter => !('$ref' in param));
      const json = operation.requestBody?.content?.['application/json'];
      return {
        method: method.toUpperCase(),
        path,
        parameters,
        ...(json?.schema ? { body: json.schema } : {}),
        ...(json?.example !== undefined ? { example: json.example } : {}),
        ...(operation['x-required-roles'] ? { roles: operation['x-required-roles'] } : {}),
        signedIn: (operation.security ?? []).length > 0,
      };
    }),
  );
}

function send(baseUrl: URL, agent: Agent, fuzz: FuzzRequest): Promise<Answer> {
  return new Promise((resolveAnswer, reject) => {
    const req = httpRequest(
      { host: baseUrl.hostname, port: baseUrl.port, method: fuzz.method, path: fuzz.path, headers: { ...fuzz.headers, ...(fuzz.body ? { 'content-length': String(fuzz.body.length) } : {}) }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer in 30 s to ${fuzz.method} ${fuzz.path}`)));
    req.on('error', reject);
    req.end(fuzz.body);
  });
}

/** Row count and the sum of row versions (xmin) per table: any insert, update or delete changes one. */
async function tableStates(orm: MikroORM, tables: string[]): Promise<Map<string, string>> {
  // Table names come from the catalog (identifiers cannot be bound parameters), quoted.
  const sql = tables.map((table) => `select '${table}' as t, count(*)::text || ':' || coalesce(sum(xmin::text::bigint), 0)::text as s from "${table}"`).join(' union all ');
  const rows = await orm.em.getConnection().execute<{ t: string; s: string }[]>(sql);
  return new Map(rows.map((row) => [row.t, row.s]));
}

/** The guardian's consent page (src/consents/page-routes.ts) is HTML for people: its errors may be pages instead of problem documents. */
const HTML_PAGE = / \/consent\/\{token\}$/;

function problemIssue(method: string, route: string, answer: Answer): string | undefined {
  if (answer.status >= 500) return `status ${answer.status}`;
  if (answer.status < 400) return undefined;
  const type = String(answer.headers['content-type'] ?? '');
  if (HTML_PAGE.test(route) && type.startsWith('text/html')) return undefined;
  if (!type.startsWith('application/problem+json')) return `${answer.status} as ${type || 'no content type'}`;
  if (method === 'HEAD') return undefined; // no body, by definition
  try {
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    if (body.status !== answer.status || typeof body.type !== 'string' || typeof body.title !== 'string') return `${answer.status}: not a problem document`;
  } catch {
    return `${answer.status}: body is not JSON`;
  }
  return undefined;
}

describe('fuzzing every operation of /openapi.json', () => {
  let databaseUrl: string;
  let orm: MikroORM;
  let temporal: Client;
  let server: Server;
  let app: ReturnType<typeof createApp>;
  let config: Config;
  let baseUrl: URL;
  let fixtures: Fixtures;
  let tables: string[];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    // A database of its own: other test files running meanwhile must not look like writes of ours.
    databaseUrl = withDatabaseName(requireEnv('DATABASE_URL'), `eventbook_fuzz_${process.pid}_${Date.now().toString(36)}`);
    await ensureDatabase(databaseUrl);
    orm = await openOrm({ url: databaseUrl, poolMax: 5 });
    await migrateToLatest(orm);
    temporal = await connectTestClient();
    // The limits stay on (their path is fuzzed too) but far above what one test sends: refusals would hide answers.
    config = testConfig({ DATABASE_URL: databaseUrl, ...benchRateLimitEnv('on') });
    app = createApp({
      orm,
      temporal,
      verifyToken: await createTokenVerifier(config.jwt),
      logger: createLogger('silent', 'api-fuzz'),
      taskQueue: `fuzz-${randomUUID()}`,
      config,
      databaseUrl,
    });
    server = createApiServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

    const free = await insertEvent(orm, { capacity: 500, waitlistEnabled: true });
    const paid = await insertEvent(orm, { capacity: 500, ticketTypes: [{ code: 'standard', amountMinor: 25_000 }] });
    const draft = await insertEvent(orm, { status: 'draft' });
    const held = await insertSignupRow(orm, free.id, { status: 'held', attendees: [{ firstName: 'Ada', age: 9 }] });
    const confirmed = await insertSignupRow(orm, free.id, { status: 'confirmed', attendees: [{ firstName: 'Kari', age: 41 }] });
    const secret = config.signup.consentTokenSecret;
    const mint = (sub: string, roles: Role[]) => mintDevToken(config.jwt, { sub, roles, markets: ['NO'] });
    fixtures = {
      eventIds: [free.id, paid.id, draft.id],
      signupIds: [held, confirmed],
      consentTokens: [createConsentToken({ signupId: held, expiresAt: new Date(Date.now() + 3_600_000) }, secret)],
      tokens: {
        participant: await mint('fuzz-participant', ['participant']),
        organizer: await mint('fuzz-organizer', ['organizer']),
        admin: await mint('fuzz-admin', ['admin']),
        ops: await mint('fuzz-ops', ['ops']),
        stranger: await mint('fuzz-stranger', ['participant']),
      },
    };
    const rows = await orm.em
      .getConnection()
      .execute<{ table_name: string }[]>(
        `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'mikro_orm_migrations' order by 1`,
      );
    tables = rows.map((row) => row.table_name);
  });

  afterAll(async () => {
    agent.destroy();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    }
    if (app) {
      await statusFeedOf(app)?.close();
      await workflowStarterOf(app)?.stop();
      await rateLimitsOf(app)?.close();
    }
    await temporal?.connection.close();
    await orm?.close(true);
    if (databaseUrl) await dropDatabase(databaseUrl);
  });

  it(`answers ${RUNS} generated requests with no 5xx, problem+json on every error, and no writes when refusing`, async () => {
    const documentAnswer = await send(baseUrl, agent, { method: 'GET', path: '/openapi.json', headers: {} });
    const doc = JSON.parse(documentAnswer.text) as OpenApiDocument;
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(30);
    // Every operation gets the same share of the cases.
    const cases = fc.sample(fc.oneof(...operations.map((op) => requestsFor(doc, op, fixtures))), { numRuns: RUNS, seed: SEED });

    const failures = new Map<string, { count: number; example: string }>();
    const fail = (kind: string, fuzz: FuzzRequest, answer?: Answer) => {
      const headers = Object.entries(fuzz.headers).map(([name, value]) => `${name}: ${name === 'authorization' ? value.slice(0, 12) : value.slice(0, 40)}`);
      const seen = failures.get(kind) ?? {
        count: 0,
        example: `${fuzz.method} ${fuzz.path.slice(0, 200)} [${headers.join('; ')}] ${fuzz.body?.toString('utf8').slice(0, 120) ?? ''} -> ${answer?.text.slice(0, 200) ?? ''}`,
      };
      seen.count += 1;
      failures.set(kind, seen);
    };
    const started = Date.now();
    let before = await tableStates(orm, tables);
    const statuses = new Map<number, number>();
    for (const fuzz of cases) {
      let answer: Answer;
      try {
        answer = await send(baseUrl, agent, fuzz);
      } catch (error) {
        fail(`no answer: ${error instanceof Error ? error.message.slice(0, 60) : String(error)}`, fuzz);
        before = await tableStates(orm, tables);
        continue;
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      const route = fuzz.operation ?? fuzz.method;
      const issue = problemIssue(fuzz.method, route, answer);
      if (issue) fail(`${issue} (${route})`, fuzz, answer);
      const after = await tableStates(orm, tables);
      if (answer.status >= 400) {
        for (const table of tables) {
          if (before.get(table) === after.get(table) || WRITTEN_ON_PURPOSE[table]?.(fuzz.path)) continue;
          fail(`${answer.status} wrote ${table} (${route})`, fuzz, answer);
        }
      }
      before = after;
    }
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(
      `input fuzz: ${cases.length} requests over ${operations.length} operations in ${seconds.toFixed(1)} s (seed ${SEED}); statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`,
    );
    const report = [...failures.entries()].map(([kind, { count, example }]) => `${count} x ${kind}\n    e.g. ${example}`);
    expect({ seed: SEED, failures: report }).toEqual({ seed: SEED, failures: [] });
  }, 600_000);
});
