import { ConnectionException } from '@mikro-orm/core';
import { isGrpcServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { Problem, problemCatalog, problemTypeUri, type ProblemSlug } from './problem.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Answers every route nobody handled. */
export const notFoundHandler: RequestHandler = (req) => {
  throw new Problem('not-found', `no route for ${req.method} ${req.path}`);
};

/**
 * Errors Express's own layers raise for what a client sent: body-parser's carry a `type`; the
 * router's failure to percent-decode a path parameter is a URIError with status 400; a body that
 * does not inflate as its Content-Encoding says is body-parser's 400 around a zlib error.
 */
function fromExpressLayers(error: unknown): Problem | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const type = 'type' in error ? error.type : undefined;
  switch (type) {
    case 'entity.parse.failed':
      // JSON.parse's own words (where it stopped), so a client can find its mistake.
      return new Problem('malformed-json', `the body is not valid JSON: ${'message' in error && typeof error.message === 'string' ? error.message : 'parse error'}`);
    case 'entity.too.large':
      return new Problem('payload-too-large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new Problem('unsupported-media-type', 'send the body as application/json in UTF-8, uncompressed, gzip, deflate or br');
    case 'request.aborted':
    case 'request.size.invalid':
      return new Problem('malformed-request', 'the body ended before its Content-Length');
  }
  const status = 'status' in error ? error.status : undefined;
  if (error instanceof URIError && status === 400) {
    return new Problem('validation-error', 'a path segment is not valid percent-encoded UTF-8', {
      errors: [{ in: 'path', field: '', message: 'not valid percent-encoded UTF-8' }],
    });
  }
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  // zlib's codes (Z_DATA_ERROR ...) and brotli's (ERR__ERROR_FORMAT_...)
  if (status === 400 && (code.startsWith('Z_') || code.startsWith('ERR__'))) {
    return new Problem('body-not-decodable', 'the body does not decompress as its Content-Encoding says');
  }
  // Any other client error of body-parser or the router (http-errors marks them expose: true).
  if (status === 400 && 'expose' in error && error.expose === true) return new Problem('malformed-request');
  return undefined;
}

/** Seconds a client is told to wait (Retry-After) when a dependency is down. */
export const RETRY_AFTER_SECONDS = 5;

// gRPC status codes (https://grpc.io/docs/guides/status-codes/) that mean "Temporal did not answer".
const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
/** Node socket errors, and PostgreSQL's SQLSTATEs for a server going away or refusing connections (class 08, 57P01-03, 53300). */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);
/** What node-postgres says when a connection drops or the pool cannot get one in time (DATABASE_ACQUIRE_TIMEOUT_MS). */
const PG_UNREACHABLE = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|Query read timeout/i;

/** Which dependency the error says is down, looking through its causes (the SDK and MikroORM wrap them). */
export function unavailableDependency(error: unknown): 'Temporal' | 'the database' | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current && typeof current === 'object' && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    if (current instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return 'Temporal';
    if (isGrpcServiceError(current) && [GRPC_CANCELLED, GRPC_DEADLINE_EXCEEDED, GRPC_UNAVAILABLE].includes(current.code)) return 'Temporal';
    if (current instanceof ConnectionException) return 'the database';
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return 'the database';
    if (current instanceof Error && PG_UNREACHABLE.test(current.message)) return 'the database';
  }
  return undefined;
}

/** A dependency that is down: 503 with Retry-After, so clients can tell an outage from a bug. */
function fromOutage(error: unknown): Problem | undefined {
  const dependency = unavailableDependency(error);
  if (!dependency) return undefined;
  return new Problem('service-unavailable', `${dependency} is not reachable right now; try again in a few seconds`, {
    headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    cause: error,
  });
}

/** Last in the chain: every error leaves as problem+json; details of unexpected ones stay in the log. */
export function problemErrorHandler(logger: Logger): ErrorRequestHandler {
  return async (thrown, req, res, _next) => {
    let error: unknown = thrown;
    // A handler that ran while its write's budget was spent (authenticate's budgetAlongside): the
    // budget first, so a write over it is a 429 whatever else was wrong with it.
    if (req.writeBudget) {
      try {
        await req.writeBudget;
      } catch (refused) {
        error = refused;
      }
    }
    const problem = error instanceof Problem ? error : (fromExpressLayers(error) ?? fromOutage(error) ?? new Problem('internal-error'));
    if (problem.status === 503) {
      (req.log ?? logger).warn({ err: error }, problem.message);
    } else if (problem.status >= 500) {
      (req.log ?? logger).error({ err: error }, problem.message);
    }
    if (res.headersSent) return;
    for (const [name, value] of Object.entries(problem.extensions.headers ?? {})) res.setHeader(name, value);
    res.status(problem.status).type(PROBLEM_CONTENT_TYPE).json(problem.toDocument(req.originalUrl));
  };
}

/** GET /problems/{slug}: what each problem type means, so the `type` URIs resolve. */
export const describeProblem: RequestHandler = (req, res) => {
  const slug = req.params.slug as ProblemSlug;
  const entry = Object.hasOwn(problemCatalog, slug) ? problemCatalog[slug] : undefined;
  if (!entry) throw new Problem('not-found', 'no such problem type');
  res.json({ type: problemTypeUri(slug), ...entry });
};

/** Rejects bodies that are not JSON instead of treating them as empty. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is(['application/json', 'application/*+json'])) {
    req.resume(); // discard the body so the connection stays usable
    throw new Problem('unsupported-media-type');
  }
  next();
};
