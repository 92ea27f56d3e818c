import { z } from 'zod';
import type { Role } from '../auth/principal.js';
import { PROBLEM_CONTENT_TYPE } from './errors.js';
import { problemCatalog, problemTypeUri, type ProblemSlug } from './problem.js';
import { rateLimitClassOf } from '../limits/rate-limits.js';

/**
 * Builds the OpenAPI 3.1 document from operation descriptors whose request and response shapes are
 * zod schemas: the very schemas the routes validate with, so the contract cannot drift from the
 * code without a test or the compiler noticing. The descriptors live in `api-operations.ts`.
 *
 * JSON Schema comes from zod's own `z.toJSONSchema` (draft 2020-12, which OpenAPI 3.1 uses as is):
 * requests are converted with `io: 'input'` (what a client sends, before transforms and defaults),
 * responses with `io: 'output'`. A schema carrying `.meta({ id })` becomes a named component.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call: anyone, any valid token, or a token with one of these roles. */
export type Access = 'public' | 'signed-in' | readonly Role[];

export interface ResponseSpec {
  description: string;
  /** The body; omit for an empty one. */
  schema?: z.ZodType;
  /** Defaults to application/json (application/problem+json for `problem(...)`). */
  contentType?: string;
  /** Instead of schema + contentType, when the status comes in several media types (JSON or CSV, by Accept). */
  content?: Record<string, z.ZodType>;
  headers?: Record<string, { description: string; schema: z.ZodType }>;
  /** Set by `problem(...)`: the problem types this status can carry. */
  problems?: readonly ProblemSlug[];
}

export interface ApiOperation {
  method: HttpMethod;
  /** OpenAPI style: /v1/signups/{signupId} (Express writes :signupId). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  auth: Access;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers worth documenting (Authorization is covered by `auth`). */
  headers?: z.ZodObject;
  body?: z.ZodType;
  /** The request body's media type; default application/json (a page's form: application/x-www-form-urlencoded). */
  bodyContentType?: string;
  /** Shown in the docs instead of generated filler (zod drops `examples` meta on the input side of transforms). */
  bodyExample?: unknown;
  /**
   * Whether the route runs params, query and body through zod (and so can answer 400
   * validation-error). Default true.
   */
  validatesRequest?: boolean;
  /** Success and operation-specific errors; the usual 400/401/403/413/415/500 are added for you. */
  responses: Record<number, ResponseSpec>;
}

/** An error response: problem+json, with `type` limited to the given problem types. */
export function problem(slugs: ProblemSlug | readonly ProblemSlug[], description?: string): ResponseSpec {
  const list = typeof slugs === 'string' ? [slugs] : slugs;
  return { description: description ?? problemCatalog[list[0]!].title, problems: list };
}

export interface ApiInfo {
  title: string;
  version: string;
  description?: string;
}

export interface TagInfo {
  name: string;
  description: string;
}

type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = Record<string, unknown> & {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, JsonSchema> } & Record<string, unknown>;
};

const COMPONENT_REF = '#/components/schemas/';

/**
 * Converts zod schemas and collects the named ones as components. A named schema used on both
 * sides whose input and output shapes differ (defaults, transforms) gets a second component,
 * `<id>Input` or `<id>Output`, whichever side came second.
 */
class SchemaCollector {
  readonly components: Record<string, JsonSchema> = {};
  private readonly renderings = new Map<string, string>();

  /** `$ref` to the component for a named schema, the schema itself otherwise. */
  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    // unrepresentable: 'throw' (the default) makes a transform on the response side an error here,
    // instead of an empty schema that accepts anything.
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      // A loose object's `additionalProperties: {}` says what JSON Schema assumes anyway; left in,
      // Swagger UI fills examples with additionalProp1..3.
      override: ({ jsonSchema }) => {
        const extra = jsonSchema.additionalProperties;
        if (typeof extra === 'object' && Object.keys(extra).length === 0) delete jsonSchema.additionalProperties;
      },
    }) as JsonSchema;
    const { $schema: _dialect, $defs, id: rootId, ...root } = json;
    const defs = ($defs ?? {}) as Record<string, JsonSchema>;

    const names = new Map<string, string>();
    for (const [name, def] of Object.entries(defs)) {
      if (name.startsWith('__')) {
        throw new Error(`an unnamed schema is reused recursively (${name}): give it .meta({ id })`);
      }
      names.set(name, this.nameFor(name, io, stripId(def)));
    }
    const rootName = typeof rootId === 'string' ? this.nameFor(rootId, io, root) : undefined;
    for (const [name, def] of Object.entries(defs)) this.components[names.get(name)!] = rewriteRefs(stripId(def), names);
    if (!rootName) return rewriteRefs(root, names);
    this.components[rootName] = rewriteRefs(root, names);
    return { $ref: COMPONENT_REF + rootName };
  }

  private nameFor(id: string, io: 'input' | 'output', schema: JsonSchema): string {
    const rendering = JSON.stringify(schema);
    for (const name of [id, `${id}${io === 'input' ? 'Input' : 'Output'}`]) {
      const seen = this.renderings.get(name);
      if (seen === undefined) this.renderings.set(name, rendering);
      if (seen === undefined || seen === rendering) return name;
    }
    throw new Error(`two different schemas use the id ${id}`);
  }
}

function stripId(schema: JsonSchema): JsonSchema {
  const { id: _id, ...rest } = schema;
  return rest;
}

/** zod writes refs as #/$defs/<id>; in the document they point at components. */
function rewriteRefs<T>(value: T, names: Map<string, string>): T {
  if (Array.isArray(value)) return value.map((item: unknown) => rewriteRefs(item, names)) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      if (key === '$ref' && typeof child === 'string' && child.startsWith('#/$defs/')) {
        const name = child.slice('#/$defs/'.length);
        return [key, COMPONENT_REF + (names.get(name) ?? name)];
      }
      return [key, rewriteRefs(child, names)];
    }),
  ) as T;
}

/** The errors every operation of a kind can answer, so descriptors list only their own. */
function standardResponses(op: ApiOperation): Record<number, ResponseSpec> {
  const responses: Record<number, ResponseSpec> = {};
  const validates = op.validatesRequest !== false && (op.params || op.query || op.body);
  if (validates) {
    responses[400] = problem(
      op.body ? ['validation-error', 'malformed-json'] : ['validation-error'],
      'The request is not valid; `errors` names each bad value',
    );
  }
  if (op.auth !== 'public') responses[401] = problem('unauthenticated', 'No valid bearer token');
  if (Array.isArray(op.auth)) responses[403] = problem('forbidden', `Needs one of the roles: ${op.auth.join(', ')}`);
  if (op.body) {
    responses[413] = problem('payload-too-large');
    responses[415] = problem('unsupported-media-type');
  }
  const limitClass = rateLimitClassOf(op);
  if (limitClass || op.auth !== 'public') {
    responses[429] = {
      ...problem(
        'rate-limited',
        limitClass
          ? `Over a rate limit of the ${limitClass} class (per client address${op.auth === 'public' ? '' : ', per user'}), or too many refused tokens from this address`
          : 'Too many refused tokens from this address',
      ),
      headers: {
        'Retry-After': { description: 'Seconds until the budget refills', schema: z.string() },
        'RateLimit-Policy': { description: 'The budgets: "<name>";q=<requests>;w=<seconds> (draft-ietf-httpapi-ratelimit-headers)', schema: z.string() },
        RateLimit: { description: 'Where each budget stands: "<name>";r=<left>;t=<seconds to reset>', schema: z.string() },
      },
    };
  }
  responses[500] = problem('internal-error');
  // Any endpoint, while PostgreSQL or Temporal is down (src/http/errors.ts): never a 500, never a hang.
  responses[503] = {
    ...problem('service-unavailable', 'PostgreSQL or Temporal is not reachable right now; nothing was done, send it again after Retry-After'),
    headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: z.string().regex(/^\d+$/) } },
  };
  return responses;
}

/** An operation's own entry wins; two problem entries for one status merge their types. */
function mergeResponses(standard: Record<number, ResponseSpec>, own: Record<number, ResponseSpec>) {
  const merged: Record<number, ResponseSpec> = { ...standard };
  for (const [status, spec] of Object.entries(own)) {
    const base = merged[Number(status)];
    merged[Number(status)] =
      base?.problems && spec.problems
        ? { ...spec, problems: [...new Set([...base.problems, ...spec.problems])] }
        : spec;
  }
  return merged;
}

function accessText(auth: Access): string {
  if (auth === 'public') return 'Access: anyone, no token needed.';
  if (auth === 'signed-in') return 'Access: any valid bearer token.';
  return `Access: a bearer token with one of the roles ${auth.join(', ')}.`;
}

export function buildOpenApiDocument(
  operations: readonly ApiOperation[],
  options: { info: ApiInfo; tags: readonly TagInfo[]; problemSchema: z.ZodType },
): OpenApiDocument {
  const schemas = new SchemaCollector();
  const problemRef = schemas.convert(options.problemSchema, 'output');
  const paths: OpenApiDocument['paths'] = {};
  const operationIds = new Set<string>();

  const parameters = (schema: z.ZodObject | undefined, location: 'path' | 'query' | 'header') => {
    if (!schema) return [];
    const json = schemas.convert(schema, 'input');
    if (json.$ref) throw new Error('parameter schemas must not carry .meta({ id })');
    const required = new Set((json.required as string[] | undefined) ?? []);
    return Object.entries((json.properties ?? {}) as Record<string, JsonSchema>).map(([name, property]) => {
      const { description, ...propertySchema } = property;
      return {
        name,
        in: location,
        required: location === 'path' || required.has(name),
        ...(description ? { description } : {}),
        schema: propertySchema,
      };
    });
  };

  const response = (status: number, spec: ResponseSpec) => {
    const headers: Record<string, unknown> = { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };
    for (const [name, header] of Object.entries(spec.headers ?? {})) {
      headers[name] = { description: header.description, schema: schemas.convert(header.schema, 'output') };
    }
    let content: Record<string, unknown> | undefined;
    if (spec.problems) {
      for (const slug of spec.problems) {
        if (problemCatalog[slug].status !== status) throw new Error(`problem ${slug} is not a ${status}`);
      }
      const types = spec.problems.map((slug) => problemTypeUri(slug));
      content = {
        [spec.contentType ?? PROBLEM_CONTENT_TYPE]: {
          schema: { allOf: [problemRef, { type: 'object', properties: { type: { enum: types }, status: { const: status } } }] },
        },
      };
    } else if (spec.content) {
      content = Object.fromEntries(
        Object.entries(spec.content).map(([type, schema]) => [type, { schema: schemas.convert(schema, 'output') }]),
      );
    } else if (spec.schema) {
      content = { [spec.contentType ?? 'application/json']: { schema: schemas.convert(spec.schema, 'output') } };
    }
    const description = spec.problems
      ? `${spec.description} (type: ${spec.problems.map((slug) => problemTypeUri(slug)).join(', ')})`
      : spec.description;
    return { description, headers, ...(content ? { content } : {}) };
  };

  for (const op of operations) {
    if (operationIds.has(op.operationId)) throw new Error(`duplicate operationId ${op.operationId}`);
    operationIds.add(op.operationId);
    const responses = mergeResponses(standardResponses(op), op.responses);
    const pathItem = (paths[op.path] ??= {});
    if (pathItem[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is described twice`);
    pathItem[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      description: [op.description, accessText(op.auth)].filter(Boolean).join('\n\n'),
      tags: op.tags,
      security: op.auth === 'public' ? [] : [{ bearerAuth: [] }],
      ...(Array.isArray(op.auth) ? { 'x-required-roles': op.auth } : {}),
      parameters: [
        ...parameters(op.params, 'path'),
        ...parameters(op.query, 'query'),
        ...parameters(op.headers, 'header'),
        { $ref: '#/components/parameters/RequestId' },
      ],
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: {
                [op.bodyContentType ?? 'application/json']: {
                  schema: schemas.convert(op.body, 'input'),
                  ...(op.bodyExample === undefined ? {} : { example: op.bodyExample }),
                },
              },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(responses)
          .sort(([a], [b]) => Number(a) - Number(b))
          .map(([status, spec]) => [status, response(Number(status), spec)]),
      ),
    };
  }

  const requestIdSchema = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' };
  return {
    // No jsonSchemaDialect: OpenAPI 3.1's default dialect is draft 2020-12 plus a few annotations,
    // so zod's output fits it as is (and Swagger UI refuses any other value).
    openapi: '3.1.0',
    info: options.info,
    tags: options.tags,
    paths,
    components: {
      schemas: schemas.components,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT from the identity provider; claims sub, roles, markets (organizers).',
        },
      },
      parameters: {
        RequestId: {
          name: 'X-Request-Id',
          in: 'header',
          required: false,
          description: 'Reused for this request and in its logs when it matches the pattern; made up otherwise.',
          schema: requestIdSchema,
        },
      },
      headers: {
        RequestId: { description: 'The id of this request, as in the logs.', schema: requestIdSchema },
      },
    },
  };
}
