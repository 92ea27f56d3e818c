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

/** Last in the chain: every error leaves as problem+json; details of unexpected ones stay in the log. */
export function problemErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const problem = error instanceof Problem ? error : (fromExpressLayers(error) ?? new Problem('internal-error'));
    if (problem.status >= 500) {
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
