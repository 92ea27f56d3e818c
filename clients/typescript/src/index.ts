/**
 * A typed client for the Eventbook API: openapi-fetch over the types generated from the API's own
 * OpenAPI document (schema.ts). Every path, parameter, body and answer is checked by the compiler;
 * at run time it is plain fetch.
 */
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };

/** The named schemas of the document, e.g. `Schema<'Signup'>`, `Schema<'PublicEventPage'>`. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];

/** An error answer: RFC 9457 problem details (`type`, `title`, `status`, `detail`, `errors`). */
export type Problem = Schema<'ProblemDocument'>;

export type EventbookClient = Client<paths>;

export interface EventbookClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where the API is, e.g. https://api.example.com (no trailing slash). */
  baseUrl: string;
  /** A bearer token, or a function that answers the current one (called before each request). */
  token?: string | (() => string | undefined | Promise<string | undefined>);
}

export function createEventbookClient(options: EventbookClientOptions): EventbookClient {
  const { token, ...rest } = options;
  const client = createClient<paths>(rest);
  if (token !== undefined) {
    const auth: Middleware = {
      async onRequest({ request }) {
        const value = typeof token === 'function' ? await token() : token;
        if (value) request.headers.set('authorization', `Bearer ${value}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}
