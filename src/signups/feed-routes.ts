import { Router, type Response } from 'express';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import { Problem } from '../http/problem.js';
import { parseRequestPart } from '../http/validate.js';
import { signupPath } from './routes.js';
import type { SignupView } from './service.js';
import { SignupStatusFeedClosedError, type SignupFeedSignal } from './status-feed.js';
import { isFinalSignupStatus, type SignupStatus } from './status.js';

/** Proxies and load balancers drop connections that stay silent for about a minute. */
export const KEEP_ALIVE_MS = 15_000;

/** The body of GET /v1/signups/{signupId}/events, for the API document (src/http/api-operations.ts). */
export const signupEventStreamSchema = z
  .string()
  .describe(
    'Server-sent events. Each change is one `signup` event: `event: signup`, `id: <n>` (counts up from 1 ' +
      'within this stream), `data: <the Signup as JSON, as GET /v1/signups/{signupId} answers it>`. The first event ' +
      'is the signup as it is now; another follows whenever its status changes (never the same status twice in ' +
      `a row). A \`: keep-alive\` comment comes every ${KEEP_ALIVE_MS / 1000} s. After a final status (released, ` +
      'rejected, cancelled) the server ends the stream: do not reconnect then (you would get the final event ' +
      'again). The server may also end the stream early (e.g. on restart): reconnecting is ' +
      'safe, the first event always carries the current state.',
  );

/** One SSE frame; JSON never contains a raw newline, so `data` is always a single line. */
function frame(id: number, view: SignupView): string {
  return `event: signup\nid: ${id}\ndata: ${JSON.stringify(view)}\n\n`;
}

/**
 * GET /v1/signups/{signupId}/events: the signup as server-sent events, one `signup` event with the
 * whole SignupView now and again whenever its status changes; the stream ends after a final status.
 * Changes come from the process's one LISTEN connection (status-feed.ts), never from polling.
 */
export function signupFeedRoutes({ authenticate, signups, statusFeed }: RouteContext): Router {
  const router = Router();

  router.get('/v1/signups/:signupId/events', authenticate(), async (req, res) => {
    const principal = principalOf(req);
    const { signupId } = parseRequestPart(signupPath, req.params, 'path');
    if (!statusFeed) throw new Problem('service-unavailable', 'live signup updates are not enabled on this server');

    let done = false;
    let clientLeft = false;
    let streaming = false;
    let lastStatus: SignupStatus | undefined;
    let eventId = 0;
    // Re-reads run one at a time so events leave in the order the reads saw them; a signal that
    // arrives during a read asks for one more read afterwards instead of a concurrent one.
    let reading = true; // the initial read below
    let readAgain = false;
    let keepAlive: NodeJS.Timeout | undefined = undefined;

    const finish = () => {
      if (done) return;
      done = true;
      unsubscribe();
      clearInterval(keepAlive);
      if (streaming && !res.writableEnded) res.end();
    };

    /** Writes the view unless its status was the last one sent; ends the stream after a final status. */
    const send = (view: SignupView) => {
      if (done || view.status === lastStatus) return;
      lastStatus = view.status;
      eventId += 1;
      res.write(frame(eventId, view));
      if (isFinalSignupStatus(view.status)) finish();
    };

    const reread = async () => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      try {
        do {
          readAgain = false;
          send(await signups.getSignup(principal, signupId));
        } while (readAgain && !done);
      } catch (error) {
        // Gone (e.g. removed after a failed workflow start) or the database is away: end the
        // stream; a reconnecting client then gets a proper answer (404, 503) instead of silence.
        req.log.warn({ err: error, signupId }, 'ending a signup event stream: could not re-read the signup');
        finish();
      } finally {
        reading = false;
      }
    };

    const onSignal = (signal: SignupFeedSignal) => {
      if (done) return;
      if (signal.type === 'closing') return finish();
      // The notification carries the status: no read at all when it is the one already sent.
      if (signal.type === 'status' && signal.status === lastStatus && !reading) return;
      void reread();
    };

    // Subscribed before the first read, so a change in between is not lost: it makes the read repeat.
    let unsubscribe: () => void;
    try {
      unsubscribe = statusFeed.subscribe(signupId, onSignal);
    } catch (error) {
      if (error instanceof SignupStatusFeedClosedError) throw new Problem('service-unavailable', 'the server is shutting down');
      throw error;
    }
    // 'close' on the response fires when the client goes away as well as after we end it.
    res.on('close', () => {
      clientLeft = true;
      finish();
    });

    let initial: SignupView;
    try {
      // Before any SSE header: a caller who may not see the signup gets an ordinary 404 problem.
      initial = await signups.getSignup(principal, signupId);
    } catch (error) {
      finish();
      throw error;
    }
    if (clientLeft) return;
    if (done) throw new Problem('service-unavailable', 'the server is shutting down'); // the feed closed during the read

    openStream(res);
    streaming = true;
    send(initial);
    reading = false;
    if (done) return;
    keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    if (readAgain) void reread();
  });

  return router;
}

function openStream(res: Response): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  // nginx would otherwise buffer the stream and deliver events in lumps.
  res.setHeader('X-Accel-Buffering', 'no');
  // The connection is not reused after the stream ends: server.close() on shutdown then finishes
  // as soon as the streams do, instead of waiting for idle keep-alive sockets.
  res.setHeader('Connection', 'close');
  res.flushHeaders();
}
