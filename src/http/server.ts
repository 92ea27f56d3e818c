import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Express } from 'express';
import { PROBLEM_CONTENT_TYPE } from './errors.js';
import { Problem, type ProblemSlug, type UnprocessableSlug } from './problem.js';

/**
 * How long an idle keep-alive connection stays open. Longer than the idle timeout of the clients
 * and proxies that reuse connections (60 s at common load balancers): the side that closes an idle
 * connection must be the one that would otherwise reuse it, or a request sent on it as the server
 * closes it is reset (Node's default of 5 s did that to one webhook in bench:signup-burst's streams).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * The HTTP server around the app, made in one place for the API process (src/api-main.ts), the
 * tests (test/support/stack.ts) and the burst bench. Node's parser refuses some requests before Express sees
 * them (an unknown method, headers over the size limit, broken framing) and by default answers
 * with an empty 400/431 or just closes the socket; here they get a problem document too, as
 * every other answer of the API, whenever the socket can still take one.
 */
export function createApiServer(app: Express): Server {
  const server = createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Above the keep-alive timeout, so a connection reused at its end is not cut while its headers arrive.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    answerOnSocket(socket, problemForParserError(error.code));
  });
  // CONNECT is not a request for a resource of ours: Node hands it to 'connect' listeners and,
  // without one, closes the socket with no answer at all.
  server.on('connect', (_req, socket: Duplex) => {
    answerOnSocket(socket, new Problem('method-not-allowed', 'CONNECT is not answered here'));
  });
  return server;
}

/** Parser errors are never 422s (those name a field of the request). */
type ParserProblemSlug = Exclude<ProblemSlug, UnprocessableSlug>;

function problemForParserError(code: string | undefined): Problem | undefined {
  const known: Record<string, [ParserProblemSlug, string]> = {
    HPE_HEADER_OVERFLOW: ['headers-too-large', 'the request line and headers exceed the size the server reads'],
    HPE_INVALID_METHOD: ['malformed-request', 'the request method is not one HTTP defines'],
    ERR_HTTP_REQUEST_TIMEOUT: ['request-timeout', 'the request did not arrive in time'],
    HPE_HEADER_TIMEOUT: ['request-timeout', 'the headers did not arrive in time'],
  };
  // A client that went away gets nothing (there is no one to read it).
  if (code === 'ECONNRESET' || code === 'EPIPE') return undefined;
  const [slug, detail]: [ParserProblemSlug, string] = (code ? known[code] : undefined) ?? ['malformed-request', 'the request is not well-formed HTTP/1.1'];
  return new Problem(slug, detail);
}

/** Writes a complete HTTP/1.1 answer and closes, unless an answer was started already or the socket is gone. */
function answerOnSocket(socket: Duplex, problem: Problem | undefined): void {
  const startedAnswer = (socket as Duplex & { _httpMessage?: unknown })._httpMessage;
  if (!problem || !socket.writable || startedAnswer) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(problem.toDocument());
  const headers = [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(problem.extensions.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    'Connection: close',
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
