import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

/**
 * HTTP caching for public reads: a weak ETag over the exact body, a short shared-cache lifetime
 * and conditional GETs answered with 304.
 */

export interface CachePolicy {
  /** Seconds a cache may serve the response without asking. */
  maxAgeSeconds: number;
  /** Further seconds a cache may serve it while it revalidates in the background. */
  staleWhileRevalidateSeconds: number;
  /** Request headers the body depends on. */
  vary: readonly string[];
}

/**
 * Public catalog reads. The bound on staleness is 1 s (the API's own response cache, see
 * createResponseCache) + max-age + stale-while-revalidate = 36 s: a cache may show spotsLeft,
 * soldOut or signupState up to 36 s old. That is acceptable because
 * availability here is advisory; the seat itself is decided by the conditional UPDATE when the
 * signup is made (a visitor who saw "1 spot left" may still be told "sold out"). Lower max-age
 * if apps ever need fresher counters; a CDN in front absorbs the read load either way.
 */
export const publicReadCache: CachePolicy = {
  maxAgeSeconds: 5,
  staleWhileRevalidateSeconds: 30,
  vary: ['Accept-Language'],
};

/** Weak: the same JSON may be sent with another encoding (gzip by a proxy) and stay equal. */
export function weakEtag(body: string): string {
  return `W/"${createHash('sha1').update(body).digest('base64url')}"`;
}

/** RFC 9110 weak comparison: any listed tag with the same opaque value, or `*`. */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === wanted);
}

/** Sends `body` as JSON with the policy's headers, or an empty 304 when the client's copy is current. */
export function sendCacheableJson(req: Request, res: Response, body: unknown, policy: CachePolicy = publicReadCache): void {
  sendCachedBody(req, res, cachedBody(body), policy);
}

/**
 * A serialized response: the body's UTF-8 bytes and its tag, computed once per cache entry (a
 * string body would be encoded again, and its content type parsed again, on every send).
 */
export interface CachedBody {
  bytes: Buffer;
  etag: string;
}

export function cachedBody(body: unknown): CachedBody {
  const json = JSON.stringify(body);
  return { bytes: Buffer.from(json), etag: weakEtag(json) };
}

/**
 * A tiny in-process cache of serialized public responses, for at most `ttlMs`. Popular catalog
 * pages are asked for many times a second by many apps; each would otherwise cost a database
 * round trip and a serialization. Concurrent misses for one key share one computation. Failures
 * (a 404 problem, a database error) are not kept. It adds at most `ttlMs` to the staleness bound
 * of publicReadCache.
 */
export function createResponseCache(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, { expires: number; body: Promise<CachedBody> }>();
  return {
    get(key: string, produce: () => Promise<unknown>): Promise<CachedBody> {
      const at = now();
      const hit = entries.get(key);
      if (hit && hit.expires > at) return hit.body;
      if (hit) entries.delete(key);
      const body = produce().then(cachedBody);
      entries.set(key, { expires: at + options.ttlMs, body });
      body.catch(() => entries.delete(key));
      // Map keeps insertion order: the first key is the oldest entry.
      if (entries.size > options.maxEntries) entries.delete(entries.keys().next().value as string);
      return body;
    },
  };
}

/** Like sendCacheableJson, for a body already serialized (and tagged) by createResponseCache. */
export function sendCachedBody(req: Request, res: Response, body: CachedBody, policy: CachePolicy = publicReadCache): void {
  res.setHeader('ETag', body.etag);
  res.setHeader(
    'Cache-Control',
    `public, max-age=${policy.maxAgeSeconds}, stale-while-revalidate=${policy.staleWhileRevalidateSeconds}`,
  );
  for (const header of policy.vary) res.vary(header);
  if (ifNoneMatchMatches(req.get('if-none-match'), body.etag)) {
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.send(body.bytes);
}
