/**
 * The API document is a contract: this test calls every documented endpoint on the real app (real
 * PostgreSQL, Temporal and worker) and checks each answer against the document served at
 * /openapi.json: the status must be documented, and the body must match the schema documented for
 * that status and content type (ajv, JSON Schema 2020-12, formats checked). It also checks that
 * the document and the Express routes describe the same endpoints.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import Ajv2020Module from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import type { Express } from 'express';
import { createTokenVerifier, mintDevToken } from '../../src/auth/tokens.js';
import { createConsentToken } from '../../src/consents/consent-token.js';
import { createStripeClient } from '../../src/payments/stripe-gateway.js';
import type { MikroORM } from '../../src/db/orm.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { createApp } from '../../src/http/app.js';
import type { OpenApiDocument } from '../../src/http/openapi.js';
import { createLogger } from '../../src/logger.js';
import { createWebhookRelay } from '../../src/webhooks/relay.js';
import {
  connectTestClient,
  eventually,
  insertEvent,
  openTestOrm,
  startTestApi,
  startTestWorker,
  type RunningApi,
  type RunningWorker,
} from '../support/stack.js';
import { insertSignupRow } from '../support/signup-rows.js';
import { startSignupWorkflow } from '../support/signup-flows.js';

// Both packages are CommonJS with a `default` export; `.default` is what works under NodeNext types and jest alike.
const Ajv2020 = Ajv2020Module.default;
const addFormats = formatsModule.default;

/**
 * Routes in Express that the document does not describe yet (none at the moment). Remove a line
 * when its descriptor lands in src/http/api-operations.ts (the test fails until you do, so the
 * list cannot go stale).
 */
const PENDING_ROUTES: string[] = [];

/** Routes that serve the document itself. */
const DOCS_ROUTES = ['GET /openapi.json', 'GET /docs', 'GET /docs/init.js'];

/** Error statuses answered with plain JSON rather than a problem document, on purpose. */
const NON_PROBLEM_ERRORS = [
  'GET /readyz 503',
  // The guardian's consent page is HTML for people: each state of a link is a page of its own.
  ...['GET /consent/{token} 404', 'GET /consent/{token} 410'],
  ...[400, 403, 404, 409, 410].map((status) => `POST /consent/{token} ${status}`),
];

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

interface OperationObject {
  operationId: string;
  parameters?: ({ name: string; in: string; required?: boolean } | { $ref: string })[];
  requestBody?: { content: Record<string, { schema: unknown; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

let orm: MikroORM;
let client: Client;
let worker: RunningWorker;
let api: RunningApi;
let doc: OpenApiDocument;
let ajv: InstanceType<typeof Ajv2020>;
/** `${METHOD} ${path} ${status}` of every answer checked against the document. */
const checked = new Set<string>();

const COMPONENTS_ID = 'https://eventbook.test/components.json';

/** The document's refs point into components; ajv gets the components as one schema of $defs. */
function retarget<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value).replaceAll('"#/components/schemas/', `"${COMPONENTS_ID}#/$defs/`),
  ) as T;
}

/** Every operation in the document, with its method and path. */
function allOperations(): { method: string; path: string; op: OperationObject }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method, path, op: op as unknown as OperationObject })),
  );
}

function operation(method: Method, path: string): OperationObject {
  const op = doc.paths[path]?.[method] as unknown as OperationObject | undefined;
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
  return op;
}

const validators = new Map<string, ValidateFunction>();
function validatorFor(method: Method, path: string, status: number, contentType: string): ValidateFunction {
  const key = `${method} ${path} ${status} ${contentType}`;
  let validate = validators.get(key);
  if (!validate) {
    const schema = operation(method, path).responses[String(status)]?.content?.[contentType]?.schema;
    if (!schema) throw new Error(`no schema documented for ${key}`);
    validate = ajv.compile(retarget(schema));
    validators.set(key, validate);
  }
  return validate;
}

/** Fails unless the answer is one the document describes for this operation. */
function expectDocumented(method: Method, path: string, answer: Answer): void {
  const where = `${method.toUpperCase()} ${path} answered ${answer.status}`;
  const documented = operation(method, path).responses[String(answer.status)];
  if (!documented) {
    throw new Error(`${where}, which is not documented (documented: ${Object.keys(operation(method, path).responses).join(', ')}); body: ${answer.text}`);
  }
  if (!documented.content) {
    expect({ where, body: answer.text }).toEqual({ where, body: '' });
  } else {
    const contentType = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!documented.content[contentType]) {
      throw new Error(`${where} as ${contentType}; documented: ${Object.keys(documented.content).join(', ')}`);
    }
    const validate = validatorFor(method, path, answer.status, contentType);
    if (!validate(answer.body)) {
      throw new Error(`${where} with a body that breaks the documented schema:\n${ajv.errorsText(validate.errors, { separator: '\n' })}\nbody: ${answer.text}`);
    }
  }
  checked.add(`${method.toUpperCase()} ${path} ${answer.status}`);
}

interface CallOptions {
  params?: Record<string, string>;
  query?: Record<string, string>;
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/** Calls a documented operation by its path template, and checks the answer against the document. */
async function call(method: Method, path: string, options: CallOptions = {}): Promise<Answer> {
  const url = new URL(
    path.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(options.params?.[name] ?? `missing-${name}`)),
    api.baseUrl,
  );
  for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body = options.rawBody;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(url, { method: method.toUpperCase(), headers, body });
  const text = await response.text();
  // JSON bodies are checked as parsed JSON; anything else (text/csv) as the string it is.
  const json = /[/+]json\b/.test(response.headers.get('content-type') ?? '');
  const answer: Answer = {
    status: response.status,
    headers: response.headers,
    text,
    body: json && text ? (JSON.parse(text) as unknown) : text,
  };
  expectDocumented(method, path, answer);
  return answer;
}

/** Like expect(status).toBe(...), but shows the body when it fails. */
function expectStatus(answer: Answer, status: number): void {
  if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${answer.text}`);
}

function field(answer: Answer, name: string): unknown {
  return (answer.body as Record<string, unknown>)[name];
}

/** A signup (and its attendees) straight in the database, with the event's counters kept equal to the rows. */
const insertSignup = (eventId: string, fields: Parameters<typeof insertSignupRow>[2]) =>
  insertSignupRow(orm, eventId, fields);

beforeAll(async () => {
  orm = await openTestOrm();
  client = await connectTestClient();
  worker = await startTestWorker(orm);
  api = await startTestApi({ orm, temporal: client, taskQueue: worker.taskQueue }, { SIGNUP_HOLD_SECONDS: '3' });

  const response = await fetch(`${api.baseUrl}/openapi.json`);
  expect(response.status).toBe(200);
  doc = (await response.json()) as OpenApiDocument;
  // strict: an unknown keyword or format in a generated schema is an error, not silently ignored.
  ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: retarget(doc.components.schemas) });
});

afterAll(async () => {
  await api.close();
  await worker.stop();
  await client.connection.close();
  await orm.close(true);
});

/** Every method and path Express routes, in OpenAPI style. */
function expressRoutes(app: Express): string[] {
  const routes: string[] = [];
  interface Layer {
    route?: { path: string | string[]; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const method of Object.keys(layer.route.methods).filter((m) => layer.route!.methods[m])) {
            routes.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
          }
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack); // a Router mounted with app.use(router), at the root
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes;
}

describe('the document', () => {
  it('is OpenAPI 3.1 with unique operationIds', () => {
    expect(doc.openapi).toBe('3.1.0');
    const ids = allOperations().map(({ op }) => op.operationId);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("declares exactly each path's template parameters, as required path parameters", () => {
    for (const { method, path, op } of allOperations()) {
      const inTemplate = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      const declared = (op.parameters ?? []).filter(
        (p): p is { name: string; in: string; required?: boolean } => 'in' in p && p.in === 'path',
      );
      expect({ op: `${method} ${path}`, params: declared.map((p) => p.name).sort() }).toEqual({ op: `${method} ${path}`, params: inTemplate });
      for (const param of declared) expect(param.required).toBe(true);
    }
  });

  it('answers every error with a problem document, except where noted', () => {
    for (const { method, path, op } of allOperations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400 || NON_PROBLEM_ERRORS.includes(`${method.toUpperCase()} ${path} ${status}`)) continue;
        expect({ at: `${method} ${path} ${status}`, types: Object.keys(response.content ?? {}) }).toEqual({
          at: `${method} ${path} ${status}`,
          types: ['application/problem+json'],
        });
      }
    }
  });

  it('has only schemas that compile under strict JSON Schema 2020-12', () => {
    for (const name of Object.keys(doc.components.schemas)) {
      expect(() => ajv.compile({ $ref: `${COMPONENTS_ID}#/$defs/${name}` })).not.toThrow();
    }
  });

  it('has request examples that match their schemas', () => {
    const examples = allOperations().flatMap(({ method, path, op }) => {
      const media = op.requestBody?.content['application/json'];
      return media?.example === undefined ? [] : [{ at: `${method} ${path}`, media }];
    });
    expect(examples.length).toBeGreaterThan(0);
    for (const { at, media } of examples) {
      const validate = ajv.compile(retarget(media.schema as object));
      expect({ at, valid: validate(media.example), errors: validate.errors ?? null }).toEqual({ at, valid: true, errors: null });
    }
  });

  it('describes the same endpoints Express routes (no more, no fewer)', async () => {
    const app = createApp({
      orm,
      temporal: client,
      verifyToken: await createTokenVerifier(api.config.jwt),
      logger: createLogger('silent', 'contract-test'),
      taskQueue: worker.taskQueue,
      config: api.config,
    });
    const routed = expressRoutes(app).filter((route) => !DOCS_ROUTES.includes(route));
    const documented = allOperations().map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(documented.filter((route) => !routed.includes(route))).toEqual([]); // a typo in a descriptor's path
    const undocumented = routed.filter((route) => !documented.includes(route)).sort();
    expect(undocumented).toEqual(PENDING_ROUTES.filter((route) => routed.includes(route)).sort());
    expect(routed.some((route) => route.includes(' /v1/'))).toBe(true);
  });

  it('is shown by Swagger UI at /docs, from local files', async () => {
    const page = await fetch(`${api.baseUrl}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/https?:\/\//); // no CDN
    for (const asset of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/init.js']) {
      const response = await fetch(`${api.baseUrl}${asset}`);
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      await response.arrayBuffer();
    }
  });
});

describe('real answers match the document', () => {
  /** The documented example, so the docs show what the API really accepts. */
  const validEvent = () => ({
    ...(operation('post', '/v1/admin/events').requestBody?.content['application/json']?.example as Record<string, unknown>),
  });
  let eventId: string;

  it('health, readiness and problem types', async () => {
    await call('get', '/healthz');
    expect((await call('get', '/metrics')).text).toContain('eventbook_signups{status="confirmed"}');
    expect((await call('get', '/readyz')).status).toBe(200);
    expect((await call('get', '/problems/{slug}', { params: { slug: 'validation-error' } })).status).toBe(200);
    expect((await call('get', '/problems/{slug}', { params: { slug: 'no-such-problem' } })).status).toBe(404);
  });

  it('POST /v1/admin/events', async () => {
    const organizer = await api.token('contract-org', ['organizer'], { markets: ['NO'] });
    const created = await call('post', '/v1/admin/events', { token: organizer, body: validEvent() });
    expectStatus(created, 201);
    eventId = field(created, 'id') as string;

    expect((await call('post', '/v1/admin/events', { token: organizer, body: {} })).status).toBe(400);
    expect((await call('post', '/v1/admin/events', { token: organizer, rawBody: '{"title":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await call('post', '/v1/admin/events', { token: organizer, rawBody: 'a=1', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await call('post', '/v1/admin/events', { body: validEvent() })).status).toBe(401);
    expect((await call('post', '/v1/admin/events', { token: await api.token('contract-p'), body: validEvent() })).status).toBe(403);
    expect((await call('post', '/v1/admin/events', { token: organizer, body: { ...validEvent(), market: 'SE' } })).status).toBe(403);
    const backwards = { ...validEvent(), endsAt: '2027-03-01T09:00:00+01:00' };
    expect((await call('post', '/v1/admin/events', { token: organizer, body: backwards })).status).toBe(422);
  });

  it('GET /v1/events/{eventId}', async () => {
    const read = await call('get', '/v1/events/{eventId}', { params: { eventId } });
    expectStatus(read, 200);
    expect(field(await call('get', '/v1/events/{eventId}', { params: { eventId }, query: { locale: 'nb' } }), 'locale')).toBe('nb');
    const etag = read.headers.get('etag');
    if (etag) {
      const again = await call('get', '/v1/events/{eventId}', { params: { eventId }, headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
    }
    expect((await call('get', '/v1/events/{eventId}', { params: { eventId: randomUUID() } })).status).toBe(404);
    expect((await call('get', '/v1/events/{eventId}', { params: { eventId: 'nope' } })).status).toBe(400);
    expect((await call('get', '/v1/events/{eventId}', { params: { eventId }, query: { locale: 'not a locale' } })).status).toBe(400);
  });

  it('GET /v1/events', async () => {
    // Published through the API, in a category of their own (other tests share the database).
    const token = await api.token(`contract-admin-${randomUUID()}`, ['admin']);
    const category = `contract-${randomUUID().slice(0, 8)}`;
    const variants: Record<string, unknown>[] = [
      {},
      {
        venue: { name: 'Makerspace', address: { line1: 'Storgata 1', city: 'Oslo', country: 'NO' } },
        ticketTypes: [
          { code: 'child', names: { en: 'Child' }, prices: [{ currency: 'NOK', amountMinor: 15000 }] },
          { code: 'adult', names: { en: 'Adult' }, prices: [{ currency: 'NOK', amountMinor: 25000 }] },
        ],
      },
      { signupOpensAt: '2027-02-01T09:00:00+01:00', platforms: ['web'] },
    ];
    const created: string[] = [];
    for (const [index, variant] of variants.entries()) {
      const day = `2027-03-0${index + 1}`;
      const answer = await call('post', '/v1/admin/events', {
        token,
        body: {
          ...validEvent(),
          category,
          startsAt: `${day}T10:00:00+01:00`,
          endsAt: `${day}T13:00:00+01:00`,
          cancellationDeadline: '2027-02-26T12:00:00+01:00',
          publish: true,
          ...variant,
        },
      });
      expectStatus(answer, 201);
      created.push(field(answer, 'id') as string);
    }
    const ids = (answer: Answer) => (field(answer, 'items') as { id: string }[]).map((item) => item.id);

    const first = await call('get', '/v1/events', { query: { category, limit: '2' } });
    expectStatus(first, 200);
    expect(ids(first)).toEqual(created.slice(0, 2));
    const nextCursor = field(first, 'nextCursor');
    expect(typeof nextCursor).toBe('string');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/"[^"]+"$/);
    expect(first.headers.get('cache-control')).toMatch(/^public, max-age=\d+, stale-while-revalidate=\d+$/);
    expect(first.headers.get('vary')).toMatch(/\bAccept-Language\b/i);
    expect((field(first, 'items') as { price: unknown }[])[1]?.price).toEqual({
      free: false,
      currency: 'NOK',
      minAmountMinor: 15000,
      maxAmountMinor: 25000,
    });

    const second = await call('get', '/v1/events', { query: { category, limit: '2', cursor: nextCursor as string } });
    expectStatus(second, 200);
    expect(ids(second)).toEqual(created.slice(2));
    expect(field(second, 'nextCursor')).toBeNull();
    expect((field(second, 'items') as { signupState: string }[])[0]?.signupState).toBe('not-open-yet');

    const notModified = await call('get', '/v1/events', { query: { category, limit: '2' }, headers: { 'if-none-match': etag! } });
    expectStatus(notModified, 304);
    expect(notModified.headers.get('etag')).toBe(etag);

    const inNorwegian = await call('get', '/v1/events', { query: { category }, headers: { 'accept-language': 'nb-NO,nb;q=0.9' } });
    expectStatus(inNorwegian, 200);
    expect((field(inNorwegian, 'items') as { locale: string }[]).map((item) => item.locale)).toEqual(['nb', 'nb', 'nb']);

    // Every filter at once, and the keyword search (another statement than a plain page).
    const filtered = await call('get', '/v1/events', {
      query: { category, q: 'robot', free: 'true', age: '9', platform: 'ios', market: 'NO', from: '2027-03-01T00:00:00Z', to: '2027-04-01T00:00:00Z' },
    });
    expectStatus(filtered, 200);
    expect(ids(filtered)).toEqual(created.slice(0, 1));
    const latestFirst = await call('get', '/v1/events', { query: { category, tag: 'no-such-tag', sort: '-startsAt' } });
    expectStatus(latestFirst, 200);

    const typo = await call('get', '/v1/events', { query: { categroy: category } });
    expect(typo.status).toBe(400);
    expect(field(typo, 'errors')).toEqual([{ in: 'query', field: 'categroy', message: 'unknown parameter' }]);
    expect((await call('get', '/v1/events', { query: { category, limit: '0' } })).status).toBe(400);
    expect((await call('get', '/v1/events', { query: { category, cursor: 'not-a-cursor' } })).status).toBe(400);
    const backwards = await call('get', '/v1/events', { query: { from: '2027-04-01T00:00:00Z', to: '2027-03-01T00:00:00Z' } });
    expect(backwards.status).toBe(400);
    expect(field(backwards, 'errors')).toEqual([expect.objectContaining({ in: 'query', field: 'to' })]);
  });

  it('the signup endpoints: request, waiting list, offer, confirmation, cancellation, removal', async () => {
    const event = await insertEvent(orm, { capacity: 2 });
    await orm.em.getConnection().execute('update "event" set waitlist_enabled = true where id = ?', [event.id]);
    const owner = await api.token('contract-alice');
    const stranger = await api.token('contract-mallory');
    const waiting = await api.token('contract-bob');
    const signups = '/v1/events/{eventId}/signups';
    const params = { eventId: event.id };
    const body = { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }, { firstName: 'Kari', age: 40, kind: 'adult' }], platform: 'web' };
    const statusOf = async (signupId: string, token: string) =>
      field(await call('get', '/v1/signups/{signupId}', { params: { signupId }, token }), 'status');
    const reaches = (signupId: string, token: string, status: string) =>
      eventually(`${signupId} ${status}`, async () => ((await statusOf(signupId, token)) === status ? true : undefined), 20_000);

    const key = randomUUID();
    const accepted = await call('post', signups, { params, token: owner, body, headers: { 'idempotency-key': key } });
    expectStatus(accepted, 202);
    const signupId = field(accepted, 'id') as string;
    const replayed = await call('post', signups, { params, token: owner, body, headers: { 'idempotency-key': key } });
    expect([replayed.status, field(replayed, 'id'), replayed.headers.get('idempotent-replayed')]).toEqual([202, signupId, 'true']);
    const reusedKey = await call('post', signups, { params, token: owner, body: { ...body, attendees: [body.attendees[0]] }, headers: { 'idempotency-key': key } });
    expect(reusedKey.status).toBe(422);
    await reaches(signupId, owner, 'confirmed');
    expect((await call('post', signups, { params, token: owner, body })).status).toBe(409); // a second active signup

    // Full: the next signup waits; the owner cancels; the seats are offered to it; it takes them.
    const queued = await call('post', signups, { params, token: waiting, body: { ...body, attendees: [body.attendees[0]] } });
    const queuedId = field(queued, 'id') as string;
    await reaches(queuedId, waiting, 'waitlisted');
    expect(field(await call('get', '/v1/signups/{signupId}', { params: { signupId: queuedId }, token: waiting }), 'waitlistPosition')).toBe(1);
    expect((await call('post', '/v1/signups/{signupId}/confirm', { params: { signupId: queuedId }, token: waiting })).status).toBe(409);
    const cancelled = await call('post', '/v1/signups/{signupId}/cancel', { params: { signupId }, token: owner, body: { reason: 'ill' } });
    expectStatus(cancelled, 200);
    expect(field(cancelled, 'status')).toBe('cancelled');
    expectStatus(await call('post', '/v1/signups/{signupId}/cancel', { params: { signupId }, token: owner, body: {} }), 200);
    await reaches(queuedId, waiting, 'held');
    const taken = await call('post', '/v1/signups/{signupId}/confirm', { params: { signupId: queuedId }, token: waiting });
    expectStatus(taken, 200);
    expect(field(taken, 'status')).toBe('confirmed');

    const mine = await call('get', '/v1/me/signups', { token: owner, query: { limit: '1' } });
    expectStatus(mine, 200);
    expect((field(mine, 'items') as { id: string }[]).map((item) => item.id)).toEqual([signupId]);
    expect((await call('get', '/v1/me/signups', { token: owner, query: { limit: '0' } })).status).toBe(400);

    const organizer = await api.token(`contract-organizer-${randomUUID()}`, ['organizer'], { markets: ['NO'] });
    const removal = '/v1/admin/events/{eventId}/participants/{signupId}';
    const foreign = await api.token(`contract-organizer-${randomUUID()}`, ['organizer'], { markets: ['SE'] });
    expect((await call('delete', removal, { params: { eventId: event.id, signupId: queuedId }, token: foreign, body: { reason: 'x' } })).status).toBe(404);
    expect((await call('delete', removal, { params: { eventId: event.id, signupId: queuedId }, token: organizer, body: {} })).status).toBe(400);
    const removed = await call('delete', removal, { params: { eventId: event.id, signupId: queuedId }, token: organizer, body: { reason: 'No show last time' } });
    expectStatus(removed, 200);
    expect([field(removed, 'status'), field(removed, 'cancellationReason')]).toEqual(['cancelled', 'No show last time']);
    // Cancelling what is already cancelled changes nothing and answers the same.
    expect(field(await call('post', '/v1/signups/{signupId}/cancel', { params: { signupId: queuedId }, token: waiting, body: {} }), 'status')).toBe('cancelled');

    expect((await call('post', signups, { params, token: owner, body: { ...body, attendees: [] } })).status).toBe(400);
    expect((await call('post', signups, { params, token: owner, body: { ...body, vip: true } })).status).toBe(400);
    const tooYoung = await call('post', signups, { params, token: stranger, body: { ...body, platform: 'unity', attendees: Array.from({ length: 11 }, () => body.attendees[0]) } });
    expect(tooYoung.status).toBe(422);
    expect((await call('post', signups, { params, body })).status).toBe(401);
    expect((await call('post', signups, { params: { eventId: randomUUID() }, token: owner, body })).status).toBe(404);
    expect((await call('get', '/v1/signups/{signupId}', { params: { signupId }, token: stranger })).status).toBe(404);
    expect((await call('get', '/v1/signups/{signupId}', { params: { signupId: 'nope' }, token: owner })).status).toBe(400);
    expect((await call('post', '/v1/signups/{signupId}/confirm', { params: { signupId }, token: stranger })).status).toBe(404);

    const full = await insertEvent(orm, { capacity: 0 });
    expect((await call('post', signups, { params: { eventId: full.id }, token: stranger, body })).status).toBe(409);
  });

  it('the guardian consent endpoints', async () => {
    const event = await insertEvent(orm, { capacity: 3 });
    await orm.em.getConnection().execute('update "event" set guardian_consent_below_age = 16 where id = ?', [event.id]);
    const minor = await mintDevToken(api.config.jwt, {
      sub: `contract-minor-${randomUUID()}`,
      roles: ['participant'],
      extraClaims: { birthdate: '2014-05-01', guardian_email: 'guardian@example.test' },
    });
    const accepted = await call('post', '/v1/events/{eventId}/signups', {
      params: { eventId: event.id },
      token: minor,
      body: { attendees: [{ firstName: 'Liv', age: 12, kind: 'child' }], platform: 'android' },
    });
    const signupId = field(accepted, 'id') as string;
    await eventually('consent asked', async () =>
      field(await call('get', '/v1/signups/{signupId}', { params: { signupId }, token: minor }), 'status') === 'awaiting_consent' ? true : undefined,
    );
    const secret = api.config.signup.consentTokenSecret;
    const token = createConsentToken({ signupId, expiresAt: new Date(Date.now() + 3_600_000) }, secret);
    const described = await call('get', '/v1/consents/{token}', { params: { token } });
    expectStatus(described, 200);
    expect(field(described, 'attendees')).toEqual(['Liv']);
    expect(field(described, 'children')).toEqual([{ firstName: 'Liv', age: 12 }]);
    expectStatus(await call('post', '/v1/consents/{token}', { params: { token }, body: { decision: 'approved' } }), 200);
    expect((await call('post', '/v1/consents/{token}', { params: { token }, body: { decision: 'denied' } })).status).toBe(409);
    expect((await call('post', '/v1/consents/{token}', { params: { token }, body: { decision: 'maybe' } })).status).toBe(400);
    const recordPath = '/v1/admin/signups/{signupId}/consent';
    const admin = await api.token(`contract-admin-${randomUUID()}`, ['admin']);
    expect(field(await call('get', recordPath, { params: { signupId }, token: admin }), 'decision')).toBe('approved');
    expect((await call('get', recordPath, { params: { signupId: randomUUID() }, token: admin })).status).toBe(404);
    expect((await call('get', recordPath, { params: { signupId }, token: minor })).status).toBe(403);
    expect((await call('get', recordPath, { params: { signupId: 'nope' }, token: admin })).status).toBe(400);
    const expired = createConsentToken({ signupId, expiresAt: new Date(Date.now() - 1000) }, secret);
    expect((await call('get', '/v1/consents/{token}', { params: { token: expired } })).status).toBe(410);
    const forged = createConsentToken({ signupId, expiresAt: new Date(Date.now() + 3_600_000) }, 'someone-elses-secret-that-is-long-enough');
    expect((await call('post', '/v1/consents/{token}', { params: { token: forged }, body: { decision: 'approved' } })).status).toBe(404);

    // The guardian's HTML page for the same kind of link (a second minor's signup, still open).
    const second = await mintDevToken(api.config.jwt, {
      sub: `contract-minor-${randomUUID()}`,
      roles: ['participant'],
      extraClaims: { birthdate: '2014-05-01', guardian_email: 'guardian@example.test' },
    });
    const pageSignupId = field(
      await call('post', '/v1/events/{eventId}/signups', {
        params: { eventId: event.id },
        token: second,
        body: { attendees: [{ firstName: 'Ola', age: 12, kind: 'child' }], platform: 'web' },
      }),
      'id',
    ) as string;
    await eventually('consent asked', async () =>
      field(await call('get', '/v1/signups/{signupId}', { params: { signupId: pageSignupId }, token: second }), 'status') === 'awaiting_consent' ? true : undefined,
    );
    const page = '/consent/{token}';
    const pageToken = createConsentToken({ signupId: pageSignupId, expiresAt: new Date(Date.now() + 3_600_000) }, secret);
    const pageExpired = createConsentToken({ signupId: pageSignupId, expiresAt: new Date(Date.now() - 1000) }, secret);
    expect((await call('get', page, { params: { token: pageExpired } })).status).toBe(410);
    expect((await call('get', page, { params: { token: 'not-a-token' } })).status).toBe(404);
    const shown = await call('get', page, { params: { token: pageToken }, query: { lang: 'nb' } });
    expectStatus(shown, 200);
    const formToken = /name="formToken" value="([^"]+)"/.exec(shown.text)?.[1] ?? '';
    const form = (fields: Record<string, string>) => ({
      params: { token: pageToken },
      rawBody: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect((await call('post', page, form({ decision: 'approved', guardian: 'yes', formToken: 'nope' }))).status).toBe(403);
    expect((await call('post', page, form({ decision: 'approved', formToken }))).status).toBe(400);
    expectStatus(await call('post', page, form({ decision: 'approved', guardian: 'yes', formToken })), 200);
    expect((await call('post', page, form({ decision: 'denied', guardian: 'yes', formToken }))).status).toBe(409);
    expect((await call('post', page, { ...form({ decision: 'denied', guardian: 'yes', formToken }), params: { token: 'not-a-token' } })).status).toBe(404);
  });

  it('GET /v1/me/data', async () => {
    const token = await api.token(`contract-export-${randomUUID()}`);
    await call('post', '/v1/me/interests', { token, body: { kind: 'market', value: 'NO' } });
    const exported = await call('get', '/v1/me/data', { token });
    expectStatus(exported, 200);
    expect(field(exported, 'interests')).toEqual([expect.objectContaining({ kind: 'market', value: 'NO' })]);
    expect((await call('get', '/v1/me/data')).status).toBe(401);

    const erased = await call('delete', '/v1/me', { token });
    expectStatus(erased, 202);
    const erasureId = field(erased, 'id') as string;
    expect(erased.headers.get('location')).toBe(`/v1/me/erasures/${erasureId}`);
    expectStatus(await call('get', '/v1/me/erasures/{erasureId}', { params: { erasureId }, token }), 200);
    expect((await call('get', '/v1/me/erasures/{erasureId}', { params: { erasureId: randomUUID() }, token })).status).toBe(404);
    expect((await call('get', '/v1/me/erasures/{erasureId}', { params: { erasureId: 'nope' }, token })).status).toBe(400);
    expect((await call('delete', '/v1/me')).status).toBe(401);
  });

  it('GET and PUT /v1/me/notification-preferences', async () => {
    const token = await api.token(`contract-preferences-${randomUUID()}`);
    const path = '/v1/me/notification-preferences';
    expectStatus(await call('get', path, { token }), 200);
    const body = { channels: { email: { enabled: true }, webhook: { url: null } }, optedOut: ['reminder'], marketing: { consent: true } };
    expectStatus(await call('put', path, { token, body }), 200);
    expect((await call('put', path, { token, body: { ...body, optedOut: ['confirmation'] } })).status).toBe(422);
    expect((await call('put', path, { token, body: { ...body, channels: { ...body.channels, webhook: { url: 'ftp://x' } } } })).status).toBe(400);
    expect((await call('get', path)).status).toBe(401);
  });

  it('POST /v1/webhooks/stripe', async () => {
    const payload = JSON.stringify({ id: `evt_${randomUUID()}`, object: 'event', type: 'customer.created', data: { object: { id: 'cus_1' } } });
    const stripe = createStripeClient(api.config.stripe);
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: api.config.stripe.webhookSecret });
    const received = await call('post', '/v1/webhooks/stripe', { rawBody: payload, headers: { 'content-type': 'application/json', 'stripe-signature': signature } });
    expectStatus(received, 200);
    expect(received.body).toEqual({ received: true, delivered: false });
    const forged = await call('post', '/v1/webhooks/stripe', { rawBody: payload.replace('cus_1', 'cus_2'), headers: { 'content-type': 'application/json', 'stripe-signature': signature } });
    expect(forged.status).toBe(400);
  });

  it('the interest endpoints: notify-me and /v1/me/interests', async () => {
    const token = await api.token(`contract-follower-${randomUUID()}`);
    const notifyMe = '/v1/events/{eventId}/notify-me';
    const visibleEvent = (await insertEvent(orm)).id;
    expectStatus(await call('post', notifyMe, { params: { eventId: visibleEvent }, token }), 201);
    expectStatus(await call('post', notifyMe, { params: { eventId: visibleEvent }, token }), 200);
    expect((await call('post', notifyMe, { params: { eventId: (await insertEvent(orm, { status: 'draft' })).id }, token })).status).toBe(404);
    expect((await call('post', notifyMe, { params: { eventId: 'nope' }, token })).status).toBe(400);
    expect((await call('post', notifyMe, { params: { eventId: visibleEvent } })).status).toBe(401);
    expectStatus(await call('delete', notifyMe, { params: { eventId: visibleEvent }, token }), 204);
    expect((await call('delete', notifyMe, { params: { eventId: 'nope' }, token })).status).toBe(400);

    const follow = { kind: 'market', value: 'NO' };
    expectStatus(await call('post', '/v1/me/interests', { token, body: follow }), 201);
    expectStatus(await call('post', '/v1/me/interests', { token, body: follow }), 200);
    expect((await call('post', '/v1/me/interests', { token, body: { kind: 'market', value: 'Norway' } })).status).toBe(400);
    expect((await call('post', '/v1/me/interests', { body: follow })).status).toBe(401);
    const listed = await call('get', '/v1/me/interests', { token });
    expectStatus(listed, 200);
    expect(field(listed, 'items')).toEqual([expect.objectContaining(follow)]);
    expect((await call('get', '/v1/me/interests')).status).toBe(401);
    const unfollow = '/v1/me/interests/{kind}/{value}';
    expectStatus(await call('delete', unfollow, { params: follow, token }), 204);
    expect((await call('delete', unfollow, { params: { kind: 'market', value: 'no' }, token })).status).toBe(400);
  });

  it('GET /v1/signups/{signupId}/events', async () => {
    // A final status: the stream sends the one event and ends, so the answer can be read whole.
    const signupId = await insertSignup((await insertEvent(orm)).id, { status: 'cancelled' });
    const events = '/v1/signups/{signupId}/events';
    const admin = await api.token(`contract-admin-${randomUUID()}`, ['admin']);
    const stream = await call('get', events, { params: { signupId }, token: admin });
    expectStatus(stream, 200);
    expect(stream.text).toMatch(new RegExp(`^event: signup\\nid: 1\\ndata: \\{"id":"${signupId}".*"status":"cancelled".*\\}\\n\\n$`));
    expect((await call('get', events, { params: { signupId }, token: await api.token('contract-mallory') })).status).toBe(404);
    expect((await call('get', events, { params: { signupId: 'nope' }, token: admin })).status).toBe(400);
    expect((await call('get', events, { params: { signupId } })).status).toBe(401);
  });

  it('the ops endpoints: flows, retry, reset, batch reset, audit', async () => {
    const opsToken = await api.token(`contract-ops-${randomUUID()}`, ['ops']);
    const { handle } = await startSignupWorkflow({ orm, client, taskQueue: worker.taskQueue }, (await insertEvent(orm)).id, 600);
    const params = { workflowId: handle.workflowId };
    const flow = '/v1/ops/flows/{workflowId}';
    expectStatus(await call('get', '/v1/ops/flows', { token: opsToken }), 200);
    expectStatus(await call('get', '/v1/ops/flows', { token: opsToken, query: { query: `WorkflowId = "${handle.workflowId}"` } }), 200);
    expect((await call('get', '/v1/ops/flows', { token: opsToken, query: { query: 'no such ~~ thing' } })).status).toBe(400);
    expect((await call('get', '/v1/ops/flows', { token: await api.token('contract-participant') })).status).toBe(403);
    expect((await call('get', '/v1/ops/flows')).status).toBe(401);
    await eventually('the workflow task done', async () => ((await handle.describe()).historyLength > 3 ? true : undefined));
    expectStatus(await call('get', flow, { params, token: opsToken }), 200);
    expect((await call('get', flow, { params: { workflowId: `signup-${randomUUID()}` }, token: opsToken })).status).toBe(404);
    expectStatus(await call('post', `${flow}/retry`, { params, token: opsToken, body: { reason: 'contract' } }), 200);
    expect((await call('post', `${flow}/retry`, { params, token: opsToken, body: {} })).status).toBe(400);
    expectStatus(await call('post', `${flow}/reset`, { params, token: opsToken, body: { to: 'last-workflow-task', reason: 'contract' } }), 200);
    expect((await call('post', `${flow}/reset`, { params, token: opsToken, body: { to: 1, reason: 'contract' } })).status).toBe(422);
    const batch = await call('post', '/v1/ops/batch-reset', {
      token: opsToken,
      body: { query: `WorkflowId = "${handle.workflowId}"`, to: 'last-workflow-task', reason: 'contract' },
    });
    expectStatus(batch, 200);
    expect((await call('post', '/v1/ops/batch-reset', { token: opsToken, body: { query: 'x' } })).status).toBe(400);
    const audit = await call('get', '/v1/ops/audit', { token: opsToken, query: { limit: '2' } });
    expectStatus(audit, 200);
    expect(field(audit, 'nextCursor')).toEqual(expect.any(String));
    expectStatus(await call('get', '/v1/ops/audit', { token: opsToken, query: { cursor: field(audit, 'nextCursor') as string } }), 200);
    expectStatus(await call('get', '/v1/ops/notifications/failed', { token: opsToken, query: { limit: '5' } }), 200);
    expect((await call('get', '/v1/ops/notifications/failed', { token: opsToken, query: { eventId: 'nope' } })).status).toBe(400);
  });

  describe('the admin endpoints', () => {
    const adminToken = () => api.token(`contract-admin-${randomUUID()}`, ['admin']);
    const eventPath = '/v1/admin/events/{eventId}';

    /** A new event through the API (checked against the document too): a draft unless `publish`. */
    async function createdEvent(token: string, change: Record<string, unknown> = {}): Promise<string> {
      const created = await call('post', '/v1/admin/events', { token, body: { ...validEvent(), publish: false, ...change } });
      expectStatus(created, 201);
      expect(created.headers.get('etag')).toBe('"v1"');
      return field(created, 'id') as string;
    }

    it('the webhook endpoints: create, list, read, change, deliveries, redeliver, delete', async () => {
      const token = await adminToken();
      const category = `contract-wh-${randomUUID().slice(0, 8)}`;
      const path = '/v1/admin/webhook-endpoints';
      const created = await call('post', path, { token, body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['event.published'], market: 'NO', category } });
      expectStatus(created, 201);
      const endpointId = field(created, 'id') as string;
      expect((await call('post', path, { token, body: { url: 'ftp://x', eventTypes: [] } })).status).toBe(400);
      const organizer = await api.token('contract-org-wh', ['organizer'], { markets: ['NO'] });
      expect((await call('post', path, { token: organizer, body: { url: 'http://127.0.0.1:9/x', eventTypes: ['event.changed'] } })).status).toBe(422);
      expectStatus(await call('get', path, { token }), 200);
      expectStatus(await call('get', `${path}/{endpointId}`, { token, params: { endpointId } }), 200);
      expect((await call('get', `${path}/{endpointId}`, { token, params: { endpointId: randomUUID() } })).status).toBe(404);
      expectStatus(await call('patch', `${path}/{endpointId}`, { token, params: { endpointId }, body: { description: 'contract' } }), 200);

      // A message for it: an event published in its scope, fanned out by the relay (no worker on that queue).
      await createdEvent(token, { category, publish: true });
      const relay = createWebhookRelay({ orm, temporal: client, taskQueue: `no-worker-${randomUUID()}`, logger: createLogger('silent', 'relay') });
      await relay.runOnce();
      const deliveries = await call('get', `${path}/{endpointId}/deliveries`, { token, params: { endpointId } });
      expectStatus(deliveries, 200);
      const [delivery] = field(deliveries, 'items') as { id: string }[];
      if (!delivery) throw new Error('no delivery fanned out');
      const redeliver = `${path}/{endpointId}/deliveries/{deliveryId}/redeliver`;
      expect((await call('post', redeliver, { token, params: { endpointId, deliveryId: delivery.id } })).status).toBe(409); // still running
      await orm.em.fork().getConnection().execute(`update webhook_delivery set status = 'failed' where id = ?`, [delivery.id]);
      expectStatus(await call('post', redeliver, { token, params: { endpointId, deliveryId: delivery.id } }), 202);
      expectStatus(await call('delete', `${path}/{endpointId}`, { token, params: { endpointId } }), 204);
    });

    it('GET /v1/admin/events', async () => {
      const token = await adminToken();
      await createdEvent(token);
      const listed = await call('get', '/v1/admin/events', { token, query: { market: 'NO', status: 'draft', limit: '5' } });
      expectStatus(listed, 200);
      expect((field(listed, 'items') as unknown[]).length).toBeGreaterThan(0);
      expectStatus(await call('get', '/v1/admin/events', { token: await api.token('contract-org-se', ['organizer'], { markets: ['SE'] }) }), 200);
      expect((await call('get', '/v1/admin/events', { token, query: { status: 'open' } })).status).toBe(400);
      expect((await call('get', '/v1/admin/events', { token, query: { limit: '0' } })).status).toBe(400);
      expect((await call('get', '/v1/admin/events', { token, query: { sort: 'name' } })).status).toBe(400);
      expectStatus(await call('get', '/v1/admin/events', { token, query: { q: 'robot', sort: '-title' } }), 200);
      expect((await call('get', '/v1/admin/events')).status).toBe(401);
      expect((await call('get', '/v1/admin/events', { token: await api.token('contract-p') })).status).toBe(403);
    });

    it('GET /v1/admin/events/{eventId}', async () => {
      const token = await adminToken();
      const id = await createdEvent(token, {
        ticketTypes: [{ code: 'child', names: { en: 'Child' }, prices: [{ currency: 'NOK', amountMinor: 15000 }], capacity: 6 }],
        promoCodes: [{ code: 'kids10', kind: 'percent', value: 10, maxUses: 5, validUntil: '2027-02-01T00:00:00+01:00' }],
        venue: { name: 'Makerspace', address: { line1: 'Storgata 1', city: 'Oslo', country: 'NO' } },
        internal: { coordinator: 'Kari' },
      });
      const read = await call('get', eventPath, { params: { eventId: id }, token });
      expectStatus(read, 200);
      expect(read.headers.get('etag')).toBe('"v1"');
      const organizer = await api.token('contract-org', ['organizer'], { markets: ['NO'] });
      expectStatus(await call('get', eventPath, { params: { eventId: eventId }, token: organizer }), 200);
      const outsider = await api.token('contract-org-se', ['organizer'], { markets: ['SE'] });
      expect((await call('get', eventPath, { params: { eventId: id }, token: outsider })).status).toBe(404);
      expect((await call('get', eventPath, { params: { eventId: randomUUID() }, token })).status).toBe(404);
      expect((await call('get', eventPath, { params: { eventId: 'nope' }, token })).status).toBe(404);
      expect((await call('get', eventPath, { params: { eventId: id } })).status).toBe(401);
      expect((await call('get', eventPath, { params: { eventId: id }, token: await api.token('contract-p') })).status).toBe(403);
    });

    it('PATCH /v1/admin/events/{eventId}', async () => {
      const token = await adminToken();
      const id = await createdEvent(token);
      const params = { eventId: id };
      expect((await call('patch', eventPath, { params, token, body: { capacity: 20 } })).status).toBe(428);
      const changed = await call('patch', eventPath, { params, token, headers: { 'if-match': '"v1"' }, body: { capacity: 20, venue: null } });
      expectStatus(changed, 200);
      expect(changed.headers.get('etag')).toBe('"v2"');
      expect(field(changed, 'capacity')).toBe(20);
      expect((await call('patch', eventPath, { params, token, headers: { 'if-match': '"v1"' }, body: { capacity: 30 } })).status).toBe(412);
      expect((await call('patch', eventPath, { params, token, headers: { 'if-match': '*' }, body: { capacity: 30 } })).status).toBe(400);
      expect((await call('patch', eventPath, { params, token, headers: { 'if-match': '"v2"' }, body: { capacty: 3 } })).status).toBe(400);
      const broken = { 'if-match': '"v2"', 'content-type': 'application/json' };
      expect((await call('patch', eventPath, { params, token, headers: broken, rawBody: '{"capacity":' })).status).toBe(400);
      const backwards = { endsAt: '2027-03-01T09:00:00+01:00' };
      expect((await call('patch', eventPath, { params, token, headers: { 'if-match': '"v2"' }, body: backwards })).status).toBe(422);
      const organizer = await api.token('contract-org', ['organizer'], { markets: ['NO'] });
      const elsewhere = { market: 'SE', timezone: 'Europe/Stockholm' };
      expect((await call('patch', eventPath, { params, token: organizer, headers: { 'if-match': '"v2"' }, body: elsewhere })).status).toBe(403);
      const unknown = { eventId: randomUUID() };
      expect((await call('patch', eventPath, { params: unknown, token, headers: { 'if-match': '"v1"' }, body: { capacity: 3 } })).status).toBe(404);
      const cancelled = await insertEvent(orm, { status: 'cancelled' });
      const onCancelled = await call('patch', eventPath, {
        params: { eventId: cancelled.id },
        token,
        headers: { 'if-match': `"v${cancelled.version}"` },
        body: { capacity: 3 },
      });
      expect(onCancelled.status).toBe(409);
    });

    it('DELETE /v1/admin/events/{eventId}', async () => {
      const token = await adminToken();
      const id = await createdEvent(token);
      const params = { eventId: id };
      expect((await call('delete', eventPath, { params, token })).status).toBe(428);
      expect((await call('delete', eventPath, { params, token, headers: { 'if-match': '"v9"' } })).status).toBe(412);
      expect((await call('delete', eventPath, { params, token, headers: { 'if-match': 'v1' } })).status).toBe(400);
      expectStatus(await call('delete', eventPath, { params, token, headers: { 'if-match': '"v1"' } }), 204);
      expect((await call('delete', eventPath, { params, token, headers: { 'if-match': '"v1"' } })).status).toBe(404);
      const published = await createdEvent(token, { publish: true });
      expect((await call('delete', eventPath, { params: { eventId: published }, token, headers: { 'if-match': '"v1"' } })).status).toBe(409);
    });

    it('POST .../publish and .../unpublish', async () => {
      const token = await adminToken();
      const id = await createdEvent(token, { announceAt: '2027-01-15T10:00:00+01:00' });
      const params = { eventId: id };
      const publish = `${eventPath}/publish`;
      const unpublish = `${eventPath}/unpublish`;
      expect((await call('post', unpublish, { params, token })).status).toBe(409); // a draft
      expect((await call('post', publish, { params, token, headers: { 'if-match': '"v7"' } })).status).toBe(412);
      expect((await call('post', publish, { params, token, headers: { 'if-match': 'W/*' } })).status).toBe(400);
      const published = await call('post', publish, { params, token });
      expectStatus(published, 200);
      expect(published.headers.get('etag')).toBe('"v2"');
      expect((await call('post', publish, { params, token })).status).toBe(409);
      expect((await call('post', unpublish, { params, token, headers: { 'if-match': '"v1"' } })).status).toBe(412);
      expect((await call('post', unpublish, { params, token, headers: { 'if-match': '*' } })).status).toBe(400);
      const unpublished = await call('post', unpublish, { params, token, headers: { 'if-match': '"v2"' } });
      expectStatus(unpublished, 200);
      expect(field(unpublished, 'status')).toBe('draft');
      expect((await call('post', publish, { params: { eventId: randomUUID() }, token })).status).toBe(404);
      expect((await call('post', unpublish, { params: { eventId: 'nope' }, token })).status).toBe(404);
      // A draft whose stored state breaks a rule (edited behind the API's back): publishing re-checks the rules.
      const incomplete = await createdEvent(token);
      await orm.em.fork().nativeUpdate(LiveEvent, { id: incomplete }, { cancellationDeadline: null });
      const refused = await call('post', publish, { params: { eventId: incomplete }, token });
      expect(refused.status).toBe(422);
      expect(field(refused, 'errors')).toEqual([expect.objectContaining({ field: 'cancellationDeadline' })]);
    });

    it('POST .../cancel', async () => {
      const token = await adminToken();
      const cancel = `${eventPath}/cancel`;
      const draft = await createdEvent(token);
      expect((await call('post', cancel, { params: { eventId: draft }, token, body: { reason: 'No venue' } })).status).toBe(409);
      const published = await createdEvent(token, { publish: true });
      const cancelled = await call('post', cancel, { params: { eventId: published }, token, body: { reason: 'No venue' } });
      expectStatus(cancelled, 200);
      expect(field(cancelled, 'status')).toBe('cancelled');
      expect((await call('post', cancel, { params: { eventId: randomUUID() }, token, body: { reason: 'No venue' } })).status).toBe(404);
    });

    it('GET .../history', async () => {
      const token = await adminToken();
      const id = await createdEvent(token);
      await call('patch', eventPath, { params: { eventId: id }, token, headers: { 'if-match': '"v1"' }, body: { tags: ['lego'], venue: null } });
      const history = `${eventPath}/history`;
      const read = await call('get', history, { params: { eventId: id }, token });
      expectStatus(read, 200);
      expect((field(read, 'items') as { action: string }[]).map((item) => item.action)).toEqual(['updated', 'created']);
      expectStatus(await call('get', history, { params: { eventId: id }, token, query: { page: '2', limit: '1' } }), 200);
      expect((await call('get', history, { params: { eventId: id }, token, query: { page: '0' } })).status).toBe(400);
      expect((await call('get', history, { params: { eventId: randomUUID() }, token })).status).toBe(404);
    });

    it('GET .../participants, POST .../check-in and GET .../stats', async () => {
      const token = await adminToken();
      const id = await createdEvent(token, { publish: true });
      const confirmed = await insertSignup(id, {
        status: 'confirmed',
        amountMinor: 30000,
        currency: 'NOK',
        attendees: [
          { firstName: 'Anna Maria', age: 7, ticketCode: `T${randomUUID().slice(0, 8)}` },
          { firstName: '=HYPERLINK("http://evil","x")', age: 40, ticketCode: `T${randomUUID().slice(0, 8)}` },
        ],
      });
      const held = await insertSignup(id, {
        status: 'held',
        attendees: [{ firstName: 'Ola, Jr.', age: 13, ticketCode: `T${randomUUID().slice(0, 8)}` }],
      });
      await insertSignup(id, { status: 'requested' }); // no attendee rows yet
      const params = { eventId: id };
      const participants = `${eventPath}/participants`;

      const all = await call('get', participants, { params, token });
      expectStatus(all, 200);
      expect(field(all, 'total')).toBe(4);
      expectStatus(await call('get', participants, { params, token, query: { status: 'confirmed', initials: 'true', limit: '1', page: '2' } }), 200);
      const csv = await call('get', participants, { params, token, headers: { accept: 'text/csv' } });
      expectStatus(csv, 200);
      expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="participants-${id}.csv"`);
      expect(csv.text.split('\r\n')).toHaveLength(6); // header, four rows, trailing empty
      expect((await call('get', participants, { params, token, headers: { accept: 'application/xml' } })).status).toBe(406);
      expect((await call('get', participants, { params, token, query: { initials: 'yes' } })).status).toBe(400);
      expect((await call('get', participants, { params: { eventId: randomUUID() }, token })).status).toBe(404);

      const checkIn = `${eventPath}/participants/{signupId}/check-in`;
      const first = await call('post', checkIn, { params: { eventId: id, signupId: confirmed }, token });
      expectStatus(first, 200);
      const again = await call('post', checkIn, { params: { eventId: id, signupId: confirmed }, token });
      expect(field(again, 'checkedInAt')).toBe(field(first, 'checkedInAt'));
      expect((await call('post', checkIn, { params: { eventId: id, signupId: held }, token })).status).toBe(409);
      expect((await call('post', checkIn, { params: { eventId: id, signupId: randomUUID() }, token })).status).toBe(404);
      expect((await call('post', checkIn, { params: { eventId: id, signupId: 'nope' }, token })).status).toBe(404);
      expectStatus(await call('get', participants, { params, token, query: { status: 'confirmed' } }), 200);

      const stats = `${eventPath}/stats`;
      const numbers = await call('get', stats, { params, token });
      expectStatus(numbers, 200);
      expect(field(numbers, 'revenue')).toEqual([{ currency: 'NOK', amountMinor: 30000 }]);
      expectStatus(await call('get', stats, { params: { eventId: (await insertEvent(orm)).id }, token }), 200); // no signups
      expect((await call('get', stats, { params: { eventId: randomUUID() }, token })).status).toBe(404);
      expect((await call('get', stats, { params })).status).toBe(401);
    });
  });

  it('catches a body that drifts from the document', () => {
    const good = {
      id: randomUUID(),
      eventId: randomUUID(),
      status: 'held',
      seats: 2,
      ticketType: null,
      platform: 'web',
      locale: 'en',
      attendees: [{ firstName: 'Ada', kind: 'child', ticketCode: null }],
      price: { amountMinor: 0, currency: null, promoCode: null },
      payment: null,
      refundedMinor: 0,
      waitlistPosition: null,
      holdExpiresAt: '2027-01-01T10:00:00.000Z',
      offeredAt: null,
      confirmedAt: null,
      releasedAt: null,
      cancelledAt: null,
      rejectionReason: null,
      cancellationReason: null,
      createdAt: '2027-01-01T09:45:00.000Z',
    };
    const validate = validatorFor('get', '/v1/signups/{signupId}', 200, 'application/json');
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, status: 'pending' })).toBe(false); // an undocumented status
    expect(validate({ ...good, discount: 100 })).toBe(false); // an undocumented field
    expect(validate({ ...good, createdAt: 'yesterday' })).toBe(false); // a broken format
    const { seats: _seats, ...missing } = good;
    expect(validate(missing)).toBe(false);
    const notFound = validatorFor('get', '/v1/signups/{signupId}', 404, 'application/problem+json');
    expect(notFound({ type: '/problems/forbidden', title: 'x', status: 404 })).toBe(false); // a type this status never has
  });

  it('called every documented operation successfully at least once', () => {
    const documented = allOperations().map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    const succeeded = [...checked].filter((entry) => /\s2\d\d$/.test(entry)).map((entry) => entry.replace(/\s\d+$/, ''));
    expect(documented.filter((op) => !succeeded.includes(op))).toEqual([]);
  });
});
