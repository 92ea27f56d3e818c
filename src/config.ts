import { z } from 'zod';
import { isWorkflowTaskQueueName } from './temporal/contract.js';

/**
 * Every setting the processes read, parsed once from the environment.
 * A missing or malformed value stops the process at start with one line per problem,
 * instead of failing later in the middle of a request.
 */

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/** A budget: so many requests per window of so many seconds; 0 requests: no limit. */
export interface Rate {
  points: number;
  seconds: number;
}
const rate = (points: number, seconds: number): Rate => ({ points, seconds });
const rateFromEnv = z
  .string()
  .transform((value, ctx): Rate => {
    if (value.trim() === '0') return rate(0, 1);
    const match = /^\s*(\d{1,7})\s*\/\s*(\d{1,6})\s*$/.exec(value);
    if (!match || Number(match[2]) < 1) {
      ctx.addIssue({ code: 'custom', message: '<requests>/<seconds>, e.g. 30/60, or 0 for no limit' });
      return z.NEVER;
    }
    return rate(Number(match[1]), Number(match[2]));
  });

// Never usable in production (see the refinement below): it only exists so that a fresh
// checkout can mint tokens with `npm run token` without any identity provider.
export const DEV_JWT_SECRET = 'eventbook-dev-only-secret-never-use-in-production';

/**
 * What a secret setting falls back to outside production, so a fresh checkout runs with no settings.
 * In production none of them applies: each must be set, and to a value of its own.
 */
export const developmentSecretDefaults = {
  STRIPE_SECRET_KEY: 'sk_test_123',
  STRIPE_WEBHOOK_SECRET: 'whsec_dev_only',
  CONSENT_TOKEN_SECRET: 'eventbook-dev-only-consent-secret-change-me',
} as const;

/**
 * Every secret value written down in this repository (the defaults above, docker-compose's, the dev
 * JWT secret). They are public, so production refuses any secret setting that equals one of them:
 * a webhook signed with a published secret must never confirm a payment.
 */
const publishedSecrets: ReadonlySet<string> = new Set([
  ...Object.values(developmentSecretDefaults),
  DEV_JWT_SECRET,
  'sk_test_eventbook_compose',
  'whsec_eventbook_compose',
]);

/** The settings that hold secrets; each is checked against `publishedSecrets` in production. */
const secretSettings = [
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'CONSENT_TOKEN_SECRET',
  'JWT_DEV_SECRET',
  'NOTIFICATION_WEBHOOK_SECRET',
] as const;

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `pretty` for people (needs the dev dependency pino-pretty; npm run dev sets it), `json` for machines. */
    LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),

    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/eventbook'),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
    /** How long a query waits for a pool connection (also to open one) before it fails: a database that is down is a fast 503, not a hang. */
    DATABASE_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(1500),
    /**
     * How long an API query waits for its answer before it fails (503): a database that stops answering
     * without closing the connections is a fast 503 too, not a hang. The API only; the worker's and
     * migrations' statements may run longer. 0 for no bound.
     */
    API_DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(1500),
    /** Read replicas (comma-separated URLs) for the public catalog's reads; writes and signups use the primary. */
    DATABASE_READ_REPLICA_URLS: z
      .string()
      .default('')
      .transform((value) => value.split(',').map((url) => url.trim()).filter(Boolean))
      .pipe(z.array(z.url({ protocol: /^postgres(ql)?$/ }))),

    TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    /** The workflows' queue; the worker also serves `<name>-seats`, the signups' seat moves (so the name must not end in -seats). */
    TEMPORAL_TASK_QUEUE: z
      .string()
      .min(1)
      .refine(isWorkflowTaskQueueName, 'must not end in -seats: the seat moves use <TEMPORAL_TASK_QUEUE>-seats')
      .default('eventbook'),

    /** How long a seat hold lasts before the signup workflow releases it. */
    SIGNUP_HOLD_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    /** How long seats offered to the head of the waitlist stay reserved for them. */
    SIGNUP_OFFER_SECONDS: z.coerce.number().int().min(1).max(7 * 86_400).default(43_200),
    /** How long a guardian has to answer a consent request. */
    SIGNUP_CONSENT_SECONDS: z.coerce.number().int().min(1).max(14 * 86_400).default(172_800),
    /**
     * A signup for an event with a consent age from a token with no `birthdate` claim: `ask-guardian`
     * treats the requester as a minor (the guardian is asked; with no guardian known the signup is
     * refused), `adult` lets it through as before. Child safety should not rest on every identity
     * provider sending the claim.
     */
    CONSENT_UNKNOWN_AGE: z.enum(['ask-guardian', 'adult']).default('ask-guardian'),
    /** After a hold ran out, how long a payment that still arrives is matched to its signup. */
    SIGNUP_LATE_PAYMENT_GRACE_SECONDS: z.coerce.number().int().min(1).max(30 * 86_400).default(604_800),
    /**
     * StartToClose of one attempt of a seat move (a short transaction); a move still waiting for a
     * lock then is tried again, and the retry answers what the first attempt did (src/signups/seats.ts).
     */
    SIGNUP_SEAT_MOVE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
    /**
     * The door's batches (src/signups/door-batcher.ts): how long the first signup for a quiet event
     * waits for others to go in the same transaction (later ones go as soon as the batch before
     * returns), and the most signups in one batch.
     */
    SIGNUP_DOOR_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(1000).default(2),
    SIGNUP_DOOR_BATCH_MAX: z.coerce.number().int().min(1).max(5000).default(200),
    /**
     * Free signups confirmed at the door: `grouped`, a door-confirmations flow per door batch mails
     * them and stands for them in Temporal, each signup's own workflow started when something needs
     * it; `each`, every signup's workflow at once (src/signups/workflow-starts.ts).
     */
    SIGNUP_DOOR_CONFIRMATIONS: z.enum(['grouped', 'each']).default('grouped'),
    /** Reminders before an event starts, in seconds, comma-separated (default 7 days and 1 day). */
    LIFECYCLE_REMINDER_OFFSETS_SECONDS: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'comma-separated whole seconds, e.g. 604800,86400')
      .default('604800,86400')
      .transform((value) => value.split(',').map(Number)),
    /** How long after an event's end attendees' personal data is kept (default 30 days). */
    DATA_RETENTION_SECONDS: z.coerce.number().int().min(0).default(30 * 86_400),
    /** Per market, e.g. `SE=7776000,NO=2592000`; markets not named use DATA_RETENTION_SECONDS. */
    DATA_RETENTION_SECONDS_BY_MARKET: z
      .string()
      .regex(/^([A-Z]{2}=\d+(,[A-Z]{2}=\d+)*)?$/, 'MARKET=seconds pairs, comma-separated, e.g. SE=7776000')
      .default('')
      .transform((value) =>
        Object.fromEntries(value ? value.split(',').map((pair) => [pair.split('=')[0] ?? '', Number(pair.split('=')[1])]) : []),
      ),
    /** Where links in e-mails point (consent links). */
    PUBLIC_BASE_URL: z.url().default('http://localhost:3000'),
    /** Signs guardian consent links (HMAC-SHA256); required in production. */
    CONSENT_TOKEN_SECRET: z.string().min(32).optional(),

    SMTP_HOST: z.string().min(1).default('127.0.0.1'),
    SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(1025),
    SMTP_SECURE: booleanFromEnv.default(false),
    SMTP_USER: z.string().optional(),
    SMTP_PASSWORD: z.string().optional(),
    /**
     * How long a mail may wait for SMTP to connect, greet, or answer any one command. Below the mail
     * activities' one-minute start-to-close timeout: a server that hangs fails the attempt, which is
     * retried, instead of holding a pooled connection (and the attempt) for nodemailer's minutes.
     */
    SMTP_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(50).default(10),
    MAIL_FROM: z.string().min(3).default('Eventbook <no-reply@eventbook.local>'),
    /** Signs notifications sent to users' webhook URLs; unset turns the webhook channel off. */
    NOTIFICATION_WEBHOOK_SECRET: z.string().min(32).optional(),
    /** A fan-out's failed delivery (one recipient, one channel) is tried this many more times on its own schedule, then recorded as failed. */
    NOTIFICATION_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
    /** The first of those retries waits this long; each next one twice as long (up to an hour). */
    NOTIFICATION_RETRY_INITIAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),

    /** Stripe API key; required in production (outside it, a test key that stripe-mock accepts). */
    STRIPE_SECRET_KEY: z.string().startsWith('sk_').optional(),
    /** Verifies Stripe's webhook signatures; required in production. */
    STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
    /** Points the Stripe client at stripe-mock (e.g. http://127.0.0.1:12111); unset means Stripe itself. */
    STRIPE_API_BASE: z.url().optional(),

    JWT_ISSUER: z.string().min(1).default('eventbook-dev'),
    JWT_AUDIENCE: z.string().min(1).default('eventbook-api'),
    JWT_JWKS_URL: z.url().optional(),
    /** PEM (SPKI) public key, for identity providers that publish a key instead of a JWKS. */
    JWT_PUBLIC_KEY: z.string().optional(),
    JWT_PUBLIC_KEY_ALGORITHM: z.enum(['RS256', 'PS256', 'ES256', 'EdDSA']).default('RS256'),
    /** HS256 secret for locally minted dev tokens; refused in production. */
    JWT_DEV_SECRET: z.string().min(32).optional(),

    /** Where the worker's Temporal SDK metrics (Prometheus, /metrics) listen, host:port; empty turns them off. */
    WORKER_METRICS_ADDRESS: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$|^$/, 'host:port, e.g. 0.0.0.0:9464, or empty to turn off')
      .default('127.0.0.1:9464'),
    /**
     * Workflows a worker keeps in its cache (the SDK's `maxCachedWorkflows`); unset: the SDK's
     * default for the process's heap. A flow evicted from it is replayed from its history at its
     * next signal (docs/operations.md, "Size the worker's workflow cache").
     */
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(2).max(1_000_000).optional(),
    /** Port of the worker's own metrics (eventbook_* counters, /metrics); 0 turns them off. */
    WORKER_APP_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
    /** OTLP/HTTP collector base URL (e.g. http://127.0.0.1:4318); unset turns tracing off. */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),

    /**
     * Browser origins allowed to call the API (CORS), comma-separated, e.g.
     * `https://app.example.com,https://admin.example.com`; `none` allows none. Unset: none in
     * production, the usual local dev-server origins otherwise (DEV_CORS_ORIGINS).
     */
    CORS_ORIGINS: z
      .string()
      .optional()
      .transform((value) =>
        value === undefined ? undefined : value.trim() === 'none' ? [] : value.split(',').map((origin) => origin.trim()).filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'an origin: scheme://host[:port], no path, no *')).optional()),
    /**
     * Which proxies in front of the API to believe about the client's address (X-Forwarded-For),
     * as Express's `trust proxy`: a hop count (`1`), or addresses, CIDRs and the names loopback,
     * linklocal, uniquelocal, comma-separated. Empty: none (the socket's peer is the client).
     */
    TRUST_PROXY: z
      .string()
      .default('')
      .transform((value) => value.trim())
      .pipe(z.string().regex(/^(|\d{1,2}|[A-Za-z0-9.:/]+(\s*,\s*[A-Za-z0-9.:/]+)*)$/, 'a hop count, or addresses, CIDRs, loopback, linklocal, uniquelocal')),
    /** Rate limits (src/limits/): `<requests>/<seconds>` per budget, `0` turns one off. Defaults and why: README. */
    RATE_LIMIT_SIGNUP_PER_USER: rateFromEnv.prefault('30/60'),
    RATE_LIMIT_SIGNUP_PER_ADDRESS: rateFromEnv.prefault('1200/60'),
    RATE_LIMIT_ADMIN_PER_USER: rateFromEnv.prefault('120/60'),
    RATE_LIMIT_ADMIN_PER_ADDRESS: rateFromEnv.prefault('1200/60'),
    RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: rateFromEnv.prefault('100/600'),
    RATE_LIMIT_PUBLIC_READS_PER_ADDRESS: rateFromEnv.prefault('1800/60'),
    /**
     * Who may read /metrics (the API's and the worker's own): clients from these addresses or CIDRs
     * (comma-separated, e.g. `10.0.0.0/8,127.0.0.1`), or with `Authorization: Bearer <METRICS_TOKEN>`.
     * In production one of the two is needed and nobody else gets in; elsewhere, with neither
     * set, /metrics is open.
     */
    METRICS_ALLOWED_ADDRESSES: z
      .string()
      .default('')
      .transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean))
      .pipe(z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]))),
    METRICS_TOKEN: z
      .string()
      .optional()
      .transform((value) => value || undefined)
      .pipe(z.string().min(32).optional()),
    /** Interface the worker's own metrics server (WORKER_APP_METRICS_PORT) listens on; 0.0.0.0 to open it to the network. */
    WORKER_APP_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && env.JWT_DEV_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_DEV_SECRET'], message: 'dev tokens are not accepted in production' });
    }
    if (env.NODE_ENV === 'production') {
      for (const name of Object.keys(developmentSecretDefaults) as (keyof typeof developmentSecretDefaults)[]) {
        if (!env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required in production (no development default applies)' });
      }
      for (const name of secretSettings) {
        const value = env[name];
        if (value && publishedSecrets.has(value)) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'is a value published in this repository; set a secret of your own in production' });
        }
      }
    }
    if (env.NODE_ENV === 'production' && !env.JWT_JWKS_URL && !env.JWT_PUBLIC_KEY) {
      ctx.addIssue({ code: 'custom', path: ['JWT_JWKS_URL'], message: 'production needs JWT_JWKS_URL or JWT_PUBLIC_KEY' });
    }
  });

/**
 * Where web apps run while they are being developed: Vite (React and others) on 5173, Create
 * React App and Next.js on 3000 (the API's own default port too, harmless), Angular on 4200.
 */
export const DEV_CORS_ORIGINS = ['5173', '3000', '4200'].flatMap((port) => [`http://localhost:${port}`, `http://127.0.0.1:${port}`]);

export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  env: RawConfig['NODE_ENV'];
  port: number;
  logLevel: RawConfig['LOG_LEVEL'];
  logFormat: RawConfig['LOG_FORMAT'];
  database: { url: string; poolMax: number; acquireTimeoutMs: number; apiQueryTimeoutMs: number; readReplicaUrls: string[] };
  temporal: { address: string; namespace: string; taskQueue: string; workerMaxCachedWorkflows?: number };
  signup: {
    holdSeconds: number;
    offerSeconds: number;
    consentSeconds: number;
    latePaymentGraceSeconds: number;
    seatMoveTimeoutSeconds: number;
    doorBatch: { windowMs: number; maxBatch: number };
    doorConfirmations: RawConfig['SIGNUP_DOOR_CONFIRMATIONS'];
    consentTokenSecret: string;
    unknownAgeConsent: RawConfig['CONSENT_UNKNOWN_AGE'];
  };
  publicBaseUrl: string;
  lifecycle: {
    reminderOffsetsSeconds: number[];
    retentionSeconds: number;
    retentionSecondsByMarket: Record<string, number>;
  };
  smtp: { host: string; port: number; secure: boolean; user?: string; password?: string; from: string; timeoutSeconds: number };
  notificationWebhookSecret?: string;
  /** Retries of a fan-out's failed deliveries (workflows/notification-retry.ts). */
  notificationRetry: { attempts: number; initialSeconds: number };
  stripe: { secretKey: string; webhookSecret: string; apiBase?: URL };
  jwt: {
    issuer: string;
    audience: string;
    jwksUrl?: URL;
    publicKeyPem?: string;
    publicKeyAlgorithm: string;
    devSecret?: string;
  };
  observability: {
    /** Temporal SDK worker metrics bind address; undefined: off. */
    workerMetricsAddress?: string;
    /** The worker's eventbook_* metrics port; 0: off. */
    workerAppMetricsPort: number;
    /** Where that server listens (loopback by default). */
    workerAppMetricsHost: string;
    /** Who may read /metrics: `open` (development without settings), or these addresses / this token. */
    metricsAccess: { open: boolean; addresses: string[]; token?: string };
    /** OTLP/HTTP endpoint for traces; undefined: tracing off. */
    otlpEndpoint?: string;
  };
  http: {
    /** Origins browsers may call the API from (CORS); empty: none. */
    corsOrigins: string[];
    /** Express `trust proxy`: false, a hop count, or a list of addresses / CIDRs / names. */
    trustProxy: boolean | number | string;
  };
  rateLimits: {
    signupPerUser: Rate;
    signupPerAddress: Rate;
    adminPerUser: Rate;
    adminPerAddress: Rate;
    authFailuresPerAddress: Rate;
    publicReadsPerAddress: Rate;
  };
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const usesExternalKeys = Boolean(e.JWT_JWKS_URL || e.JWT_PUBLIC_KEY);
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      acquireTimeoutMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
      apiQueryTimeoutMs: e.API_DATABASE_QUERY_TIMEOUT_MS,
      readReplicaUrls: e.DATABASE_READ_REPLICA_URLS,
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      workerMaxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    },
    signup: {
      holdSeconds: e.SIGNUP_HOLD_SECONDS,
      offerSeconds: e.SIGNUP_OFFER_SECONDS,
      consentSeconds: e.SIGNUP_CONSENT_SECONDS,
      latePaymentGraceSeconds: e.SIGNUP_LATE_PAYMENT_GRACE_SECONDS,
      seatMoveTimeoutSeconds: e.SIGNUP_SEAT_MOVE_TIMEOUT_SECONDS,
      doorBatch: { windowMs: e.SIGNUP_DOOR_BATCH_WINDOW_MS, maxBatch: e.SIGNUP_DOOR_BATCH_MAX },
      doorConfirmations: e.SIGNUP_DOOR_CONFIRMATIONS,
      consentTokenSecret: e.CONSENT_TOKEN_SECRET ?? developmentSecretDefaults.CONSENT_TOKEN_SECRET,
      unknownAgeConsent: e.CONSENT_UNKNOWN_AGE,
    },
    publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/$/, ''),
    lifecycle: {
      reminderOffsetsSeconds: e.LIFECYCLE_REMINDER_OFFSETS_SECONDS,
      retentionSeconds: e.DATA_RETENTION_SECONDS,
      retentionSecondsByMarket: e.DATA_RETENTION_SECONDS_BY_MARKET,
    },
    smtp: {
      host: e.SMTP_HOST,
      port: e.SMTP_PORT,
      secure: e.SMTP_SECURE,
      user: e.SMTP_USER,
      password: e.SMTP_PASSWORD,
      from: e.MAIL_FROM,
      timeoutSeconds: e.SMTP_TIMEOUT_SECONDS,
    },
    notificationWebhookSecret: e.NOTIFICATION_WEBHOOK_SECRET,
    notificationRetry: { attempts: e.NOTIFICATION_RETRY_ATTEMPTS, initialSeconds: e.NOTIFICATION_RETRY_INITIAL_SECONDS },
    stripe: {
      // Production cannot reach these fallbacks: the refinement above requires both settings there.
      secretKey: e.STRIPE_SECRET_KEY ?? developmentSecretDefaults.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET ?? developmentSecretDefaults.STRIPE_WEBHOOK_SECRET,
      apiBase: e.STRIPE_API_BASE ? new URL(e.STRIPE_API_BASE) : undefined,
    },
    jwt: {
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      jwksUrl: e.JWT_JWKS_URL ? new URL(e.JWT_JWKS_URL) : undefined,
      publicKeyPem: e.JWT_PUBLIC_KEY,
      publicKeyAlgorithm: e.JWT_PUBLIC_KEY_ALGORITHM,
      // Outside production a checkout works with no key configured: dev tokens are then the only way in.
      devSecret: e.JWT_DEV_SECRET ?? (e.NODE_ENV !== 'production' && !usesExternalKeys ? DEV_JWT_SECRET : undefined),
    },
    observability: {
      workerMetricsAddress: e.WORKER_METRICS_ADDRESS || undefined,
      workerAppMetricsPort: e.WORKER_APP_METRICS_PORT,
      workerAppMetricsHost: e.WORKER_APP_METRICS_HOST,
      metricsAccess: {
        open: e.NODE_ENV !== 'production' && e.METRICS_ALLOWED_ADDRESSES.length === 0 && !e.METRICS_TOKEN,
        addresses: e.METRICS_ALLOWED_ADDRESSES,
        ...(e.METRICS_TOKEN ? { token: e.METRICS_TOKEN } : {}),
      },
      otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    },
    http: {
      corsOrigins: e.CORS_ORIGINS ?? (e.NODE_ENV === 'production' ? [] : DEV_CORS_ORIGINS),
      trustProxy: e.TRUST_PROXY === '' ? false : /^\d+$/.test(e.TRUST_PROXY) ? Number(e.TRUST_PROXY) : e.TRUST_PROXY,
    },
    rateLimits: {
      signupPerUser: e.RATE_LIMIT_SIGNUP_PER_USER,
      signupPerAddress: e.RATE_LIMIT_SIGNUP_PER_ADDRESS,
      adminPerUser: e.RATE_LIMIT_ADMIN_PER_USER,
      adminPerAddress: e.RATE_LIMIT_ADMIN_PER_ADDRESS,
      authFailuresPerAddress: e.RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS,
      publicReadsPerAddress: e.RATE_LIMIT_PUBLIC_READS_PER_ADDRESS,
    },
  };
}

let cached: Config | undefined;

/** The process's configuration, parsed on first use and then fixed. */
export function getConfig(): Config {
  cached ??= loadConfig(process.env);
  return cached;
}

/** The environment variable names the config module reads (docker-compose is checked against these). */
export const configVariableNames: readonly string[] = Object.keys(configSchema.shape);
