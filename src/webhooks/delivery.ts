import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks (https://www.standardwebhooks.com): each request carries `webhook-id` (the
 * message id, the same on every retry and redelivery, so receivers can drop duplicates),
 * `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">`, keyed with the endpoint's secret), signed with the maintained
 * `standardwebhooks` library.
 */

/** A new signing secret in the spec's format: `whsec_` and base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The body every endpoint gets: the Standard Webhooks envelope (type, timestamp, data). */
export function messageBody(message: { type: string; occurredAt: Date; payload: Record<string, unknown> }): string {
  return JSON.stringify({ type: message.type, timestamp: message.occurredAt.toISOString(), data: message.payload });
}

export function signedHeaders(secret: string, messageId: string, body: string, at: Date): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Eventbook-Webhooks/1',
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, at, body),
  };
}

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

/** One POST: 2xx is delivered; anything else (or no answer in time) is a failed attempt. Redirects are not followed. */
export async function postMessage(url: string, headers: Record<string, string>, body: string, timeoutMs = 10_000): Promise<AttemptResult> {
  try {
    const response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok
      ? { ok: true, statusCode: response.status, error: null }
      : { ok: false, statusCode: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { ok: false, statusCode: null, error: `${error instanceof Error ? error.message : String(error)}${cause}`.slice(0, 1000) };
  }
}
