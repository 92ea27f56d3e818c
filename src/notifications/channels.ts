import { createHmac, randomUUID } from 'node:crypto';
import type { NotificationKind } from '../events/event-data.js';
import type { Mailer } from './mailer.js';

/**
 * The seam between "a notification is due" and how it reaches a person. E-mail is the channel
 * everyone has; the webhook channel POSTs the same rendered message to a URL a user's profile names,
 * which is how a push or SMS gateway plugs in without this code knowing about either.
 *
 * A channel's `send` resolves only when the message was accepted and throws otherwise, so the
 * calling activity is retried; `sendNotificationOnce` keeps each (key, channel) to one delivery.
 */
export type ChannelName = 'email' | 'webhook';

export interface ChannelMessage {
  /** An e-mail address for `email`, an https URL for `webhook`. */
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Our once-only key: receivers can drop a duplicate delivery with it. */
  notificationKey: string;
  kind: NotificationKind;
  locale: string;
}

export interface NotificationChannel {
  name: ChannelName;
  send(message: ChannelMessage): Promise<{ messageId: string }>;
}

/** E-mail over the process's pooled SMTP transport. */
export function emailChannel(mailer: Mailer): NotificationChannel {
  return {
    name: 'email',
    send: (message) =>
      mailer.send({ to: message.to, subject: message.subject, text: message.text, html: message.html, notificationKey: message.notificationKey }),
  };
}

export const WEBHOOK_SIGNATURE_HEADER = 'X-Eventbook-Signature';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`; receivers recompute it over the raw body. */
export function webhookSignature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** What a webhook receives, as JSON. `sentAt` is inside the signed body so receivers can refuse old replays. */
export interface WebhookPayload {
  notificationKey: string;
  kind: NotificationKind;
  locale: string;
  subject: string;
  text: string;
  html: string;
  sentAt: string;
}

export class WebhookDeliveryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

/**
 * POSTs the message as signed JSON. Any answer but 2xx, a timeout or a network error throws, so the
 * activity retries under its retry policy (the once-only log makes the retry resend, not duplicate).
 * Redirects are not followed: a redirect could take the signed body somewhere the profile never named.
 */
export function webhookChannel(options: { secret: string; timeoutMs?: number; fetch?: typeof fetch }): NotificationChannel {
  const post = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: 'webhook',
    async send(message) {
      const url = new URL(message.to);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookDeliveryError(`not an http(s) URL: ${url.protocol}`);
      const payload: WebhookPayload = {
        notificationKey: message.notificationKey,
        kind: message.kind,
        locale: message.locale,
        subject: message.subject,
        text: message.text,
        html: message.html,
        sentAt: new Date().toISOString(),
      };
      const body = JSON.stringify(payload);
      // Our id for this attempt, so support can match a delivery to the receiver's logs.
      const deliveryId = randomUUID();
      let response: Response;
      try {
        response = await post(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(body, options.secret),
            'X-Eventbook-Notification': message.notificationKey,
            'X-Eventbook-Delivery': deliveryId,
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new WebhookDeliveryError(`webhook ${url.origin} not reached: ${error instanceof Error ? error.message : String(error)}`);
      }
      // Drain the body so the connection goes back to the pool; its content does not matter.
      await response.arrayBuffer().catch(() => undefined);
      if (response.status < 200 || response.status > 299) {
        throw new WebhookDeliveryError(`webhook ${url.origin} answered ${response.status}`, response.status);
      }
      return { messageId: deliveryId };
    },
  };
}
