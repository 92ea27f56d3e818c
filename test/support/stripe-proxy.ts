import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small proxy in front of stripe-mock that gives it the memory a payment test needs. stripe-mock
 * answers every request from Stripe's own API definitions but keeps no state: a retrieved
 * PaymentIntent always has its fixture amount (1099 USD) and status, and an idempotency key is not
 * honoured. This proxy passes every request through and:
 * - remembers each PaymentIntent created (amount, currency, metadata) and answers retrieves and
 *   cancels with those values and the status it has reached;
 * - replays the first answer to a repeated Idempotency-Key, as Stripe does;
 * - refuses to cancel a paid intent and to refund an unpaid one (Stripe's own error shapes);
 * - records every refund it let through, for tests to count.
 * Tests steer it at `/__proxy/` (see test/support/stripe-control.ts): mark an intent paid (what a
 * real payment does), change its amount or currency (a tampered intent), refuse its refunds.
 */

export interface ProxiedIntent {
  id: string;
  amount: number;
  currency: string;
  status: string;
  amountReceived: number;
  metadata: Record<string, string>;
  refuseRefunds: boolean;
}

export interface ProxiedRefund {
  id: string;
  paymentIntent: string;
  amount: number;
  idempotencyKey: string | null;
}

export async function startStripeProxy(upstream: string): Promise<{ url: string; stop(): Promise<void> }> {
  const intents = new Map<string, ProxiedIntent>();
  const refunds: ProxiedRefund[] = [];
  const replies = new Map<string, { status: number; body: string }>();

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'api_error', message: `stripe proxy: ${String(error)}` } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (url.pathname.startsWith('/__proxy/')) return control(req.method ?? 'GET', url, body, res);

    const method = req.method ?? 'GET';
    const idempotencyKey = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const replayKey = idempotencyKey && method === 'POST' ? `${url.pathname} ${idempotencyKey}` : null;
    const replayed = replayKey ? replies.get(replayKey) : undefined;
    if (replayed) return send(res, replayed.status, replayed.body);

    const form = new URLSearchParams(body);
    const cancel = /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(url.pathname);
    const retrieve = /^\/v1\/payment_intents\/([^/]+)$/.exec(url.pathname);
    const known = intents.get((cancel ?? retrieve)?.[1] ?? '');

    if (method === 'POST' && cancel && known && ['succeeded', 'processing'].includes(known.status)) {
      return remember(replayKey, res, 400, stripeError('payment_intent_unexpected_state', `This PaymentIntent's status is ${known.status}.`));
    }
    if (method === 'POST' && url.pathname === '/v1/refunds') {
      const target = intents.get(form.get('payment_intent') ?? '');
      if (target && (target.refuseRefunds || target.status !== 'succeeded')) {
        return remember(replayKey, res, 400, stripeError('charge_not_refundable', `refund of ${target.id} refused (status ${target.status})`));
      }
    }

    const answer = await forward(upstream, req, body);
    let text = answer.body;
    if (answer.status === 200) {
      const object = JSON.parse(text) as Record<string, unknown>;
      if (method === 'POST' && url.pathname === '/v1/payment_intents') {
        intents.set(String(object.id), {
          id: String(object.id),
          amount: Number(object.amount),
          currency: String(object.currency),
          status: String(object.status),
          amountReceived: 0,
          metadata: metadataOf(form),
          refuseRefunds: false,
        });
      } else if (known && (retrieve || cancel)) {
        if (cancel) known.status = 'canceled';
        Object.assign(object, {
          amount: known.amount,
          currency: known.currency,
          status: known.status,
          amount_received: known.amountReceived,
          metadata: known.metadata,
        });
      } else if (method === 'POST' && url.pathname === '/v1/refunds') {
        const target = intents.get(form.get('payment_intent') ?? '');
        const amount = form.get('amount') !== null ? Number(form.get('amount')) : (target?.amountReceived ?? Number(object.amount));
        object.amount = amount;
        refunds.push({ id: String(object.id), paymentIntent: form.get('payment_intent') ?? '', amount, idempotencyKey });
      }
      text = JSON.stringify(object);
    }
    return remember(replayKey, res, answer.status, text);
  }

  function remember(replayKey: string | null, res: ServerResponse, status: number, body: string): void {
    if (replayKey) replies.set(replayKey, { status, body });
    send(res, status, body);
  }

  function control(method: string, url: URL, body: string, res: ServerResponse): void {
    const intent = /^\/__proxy\/intents\/([^/]+)$/.exec(url.pathname);
    if (intent && method === 'POST') {
      const target = intents.get(intent[1] ?? '');
      if (!target) return send(res, 404, JSON.stringify({ error: `no intent ${intent[1]}` }));
      const change = JSON.parse(body || '{}') as Partial<Pick<ProxiedIntent, 'amount' | 'currency' | 'status' | 'refuseRefunds'>>;
      Object.assign(target, change);
      if (change.status === 'succeeded') target.amountReceived = target.amount;
      return send(res, 200, JSON.stringify(target));
    }
    if (intent && method === 'GET') {
      const target = intents.get(intent[1] ?? '');
      return target ? send(res, 200, JSON.stringify(target)) : send(res, 404, JSON.stringify({ error: `no intent ${intent[1]}` }));
    }
    if (url.pathname === '/__proxy/refunds' && method === 'GET') {
      const of = url.searchParams.get('payment_intent');
      return send(res, 200, JSON.stringify(refunds.filter((refund) => !of || refund.paymentIntent === of)));
    }
    send(res, 404, JSON.stringify({ error: 'unknown proxy control' }));
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Stripe's form encoding of metadata: `metadata[key]=value`. */
function metadataOf(form: URLSearchParams): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of form) {
    const name = /^metadata\[(.+)\]$/.exec(key)?.[1];
    if (name) metadata[name] = value;
  }
  return metadata;
}

function stripeError(code: string, message: string): string {
  return JSON.stringify({ error: { type: 'invalid_request_error', code, message } });
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_proxy_${Date.now()}` });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function forward(upstream: string, req: IncomingMessage, body: string): Promise<{ status: number; body: string }> {
  const target = new URL(req.url ?? '/', upstream);
  const { 'accept-encoding': _encoding, ...passed } = req.headers;
  const headers = { ...passed, host: target.host, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(target, { method: req.method, headers }, (answer) => {
      void readBody(answer).then((text) => resolve({ status: answer.statusCode ?? 502, body: text }), reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
