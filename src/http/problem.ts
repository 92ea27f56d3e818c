/**
 * RFC 9457 problem details. Every error the API answers is one of these types; the `type` URI
 * is stable and resolves to a short description served by the API itself (GET /problems/{slug}).
 */

export const problemCatalog = {
  'validation-error': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'body-not-decodable': { status: 400, title: 'The request body is not encoded as its Content-Encoding says' },
  'malformed-request': { status: 400, title: 'The request is not well-formed HTTP' },
  unauthenticated: { status: 401, title: 'A valid bearer token is required' },
  forbidden: { status: 403, title: 'Your role does not allow this' },
  'not-found': { status: 404, title: 'No such resource' },
  'rule-violation': { status: 422, title: 'The request breaks a business rule' },
  'signup-exists': { status: 409, title: 'You already have an active signup for this event' },
  'idempotency-key-reused': { status: 422, title: 'This Idempotency-Key was used for a different request' },
  'signup-not-held': { status: 409, title: 'The signup has no offered seats waiting to be taken' },
  'signup-not-eligible': { status: 422, title: 'The signup does not meet the event rules' },
  'sold-out': { status: 409, title: 'The event is full and its waiting list is closed or full' },
  'signup-not-active': { status: 409, title: 'The signup has already ended' },
  'cancellation-deadline-passed': { status: 409, title: 'The cancellation deadline has passed' },
  'consent-link-invalid': { status: 404, title: 'This consent link is not valid' },
  'consent-link-expired': { status: 410, title: 'This consent link has expired' },
  'consent-already-given': { status: 409, title: 'A decision was already made with this link' },
  'webhook-signature-invalid': { status: 400, title: 'The webhook signature does not match its body' },
  'signup-not-confirmed': { status: 409, title: 'Only confirmed signups can be checked in' },
  'event-state-conflict': { status: 409, title: 'The event is not in a state that allows this' },
  'method-not-allowed': { status: 405, title: 'This path does not answer that method; see Allow' },
  'not-acceptable': { status: 406, title: 'None of the media types in Accept can be produced' },
  'flow-not-running': { status: 409, title: 'The workflow is not running' },
  'flow-changed': { status: 409, title: 'The workflow changed meanwhile (another reset or retry); read it again' },
  'reset-point-invalid': { status: 422, title: 'There is no workflow task to reset to at that point' },
  'precondition-failed': { status: 412, title: 'The resource has changed since you read it; read it again' },
  'precondition-required': { status: 428, title: 'Send If-Match with the ETag you read' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Send the request body as application/json' },
  'request-timeout': { status: 408, title: 'The request did not arrive in time' },
  'rate-limited': { status: 429, title: 'Too many requests; try again after Retry-After seconds' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  'service-unavailable': { status: 503, title: 'A service we depend on is not reachable; try again shortly' },
  'internal-error': { status: 500, title: 'Something went wrong on our side' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemSlug = keyof typeof problemCatalog;

export interface InvalidField {
  /** Where the value came from. */
  in: 'body' | 'query' | 'path' | 'header';
  /** Dotted path to the value, e.g. `attendees.0.age`; empty for the whole body. */
  field: string;
  message: string;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: InvalidField[];
  [extension: string]: unknown;
}

export function problemTypeUri(slug: ProblemSlug): string {
  return `/problems/${slug}`;
}

/** The 422 types: their answers always name the field at fault (`errors`), so the type demands it. */
export type UnprocessableSlug = { [K in ProblemSlug]: (typeof problemCatalog)[K]['status'] extends 422 ? K : never }[ProblemSlug];

export interface ProblemExtensions {
  errors?: InvalidField[];
  headers?: Record<string, string>;
  cause?: unknown;
}

/** Thrown anywhere below the HTTP layer's error handler to answer with a problem document. */
export class Problem extends Error {
  readonly status: number;

  constructor(slug: UnprocessableSlug, detail: string, extensions: ProblemExtensions & { errors: InvalidField[] });
  constructor(slug: Exclude<ProblemSlug, UnprocessableSlug>, detail?: string, extensions?: ProblemExtensions);
  constructor(
    readonly slug: ProblemSlug,
    readonly detail?: string,
    readonly extensions: ProblemExtensions = {},
  ) {
    super(detail ?? problemCatalog[slug].title, { cause: extensions.cause });
    this.name = 'Problem';
    this.status = problemCatalog[slug].status;
  }

  toDocument(instance?: string): ProblemDocument {
    const { title, status } = problemCatalog[this.slug];
    return {
      type: problemTypeUri(this.slug),
      title,
      status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...(this.extensions.errors ? { errors: this.extensions.errors } : {}),
    };
  }
}
