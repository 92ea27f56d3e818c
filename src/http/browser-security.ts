import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * What browsers are told about the API (helmet) and who may call it from a web page (cors).
 *
 * The API answers JSON: its Content-Security-Policy allows nothing to load or run and no page to
 * frame it (an answer opened in a tab can run nothing). The docs page (/docs, Swagger UI) gets a
 * policy of its own, in src/http/api-docs.ts. upgrade-insecure-requests is left out: TLS ends at
 * the ingress, and the directive would send the docs page's own requests to https on a plain
 * http development server.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/**
 * Swagger UI: its scripts and styles come from /docs/assets (same origin, no CDN), its init script
 * is a file (no inline script); it sets inline styles and draws data: images, and fetches
 * /openapi.json and, for "Try it out", the API itself (same origin).
 */
export function docsContentSecurityPolicy(): RequestHandler {
  return helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
    },
  });
}

/** Response headers a web app may read (everything else is hidden from its script by the browser). */
export const exposedHeaders = [
  'Location',
  'ETag',
  'RateLimit',
  'RateLimit-Policy',
  'Retry-After',
  'X-Request-Id',
  'Idempotent-Replayed',
  'Content-Disposition',
  'Allow',
];

/**
 * CORS from the allow-list (CORS_ORIGINS), preflights included. Bearer tokens, not cookies, so no
 * credentials mode. An origin not on the list gets no Access-Control-* headers: its browser
 * refuses the answer (and the preflight) to the page.
 */
export function corsFor(origins: readonly string[]): RequestHandler {
  return cors({
    origin: origins.length > 0 ? [...origins] : false,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'If-None-Match', 'Accept-Language', 'X-Request-Id'],
    exposedHeaders,
    maxAge: 600,
  });
}
