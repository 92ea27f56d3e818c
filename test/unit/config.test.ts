import { describe, expect, it } from '@jest/globals';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../src/config.js';

describe('config', () => {
  it('runs a fresh checkout on local defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      database: { url: 'postgres://postgres@127.0.0.1:5432/eventbook' },
      temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'eventbook' },
      signup: { holdSeconds: 900 },
      smtp: { host: '127.0.0.1', port: 1025, secure: false },
    });
    expect(config.jwt.devSecret).toBe(DEV_JWT_SECRET);
  });

  it('reads and coerces what is set', () => {
    const config = loadConfig({
      PORT: '8080',
      SIGNUP_HOLD_SECONDS: '5',
      SMTP_SECURE: 'true',
      STRIPE_API_BASE: 'http://127.0.0.1:12111',
      TEMPORAL_TASK_QUEUE: 'q1',
    });
    expect(config.port).toBe(8080);
    expect(config.signup.holdSeconds).toBe(5);
    expect(config.smtp.secure).toBe(true);
    expect(config.stripe.apiBase?.port).toBe('12111');
    expect(config.temporal.taskQueue).toBe('q1');
  });

  it("leaves the worker's workflow cache to the SDK unless WORKER_MAX_CACHED_WORKFLOWS says otherwise", () => {
    expect(loadConfig({}).temporal.workerMaxCachedWorkflows).toBeUndefined();
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '5000' }).temporal.workerMaxCachedWorkflows).toBe(5000);
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '1' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
  });

  it("keeps the seat queue's name free", () => {
    // The seat moves use <TEMPORAL_TASK_QUEUE>-seats: a workflows' queue of that shape would be read as a seat queue.
    expect(() => loadConfig({ TEMPORAL_TASK_QUEUE: 'eventbook-seats' })).toThrow(/TEMPORAL_TASK_QUEUE: must not end in -seats/);
  });

  it('fails fast naming every bad variable', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x/y', SMTP_SECURE: 'maybe' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const issues = (error as ConfigError).issues.join('\n');
      expect(issues).toMatch(/^PORT: /m);
      expect(issues).toMatch(/^DATABASE_URL: /m);
      expect(issues).toMatch(/^SMTP_SECURE: /m);
    }
  });

  // Secrets of production's own, none of them written anywhere in this repository.
  const productionSecrets = {
    CONSENT_TOKEN_SECRET: 'a-real-secret-from-the-vault-0123456789',
    STRIPE_SECRET_KEY: 'sk_live_from_the_vault_0123456789',
    STRIPE_WEBHOOK_SECRET: 'whsec_from_the_vault_0123456789',
  };

  it('refuses dev tokens and missing keys in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...productionSecrets })).toThrow(/JWT_JWKS_URL: production needs/);
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        JWT_JWKS_URL: 'https://idp.example/jwks',
        JWT_DEV_SECRET: 'x'.repeat(40),
        ...productionSecrets,
      }),
    ).toThrow(/JWT_DEV_SECRET/);
    const production = loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks', ...productionSecrets });
    expect(production.jwt.devSecret).toBeUndefined();
    expect(production.stripe).toMatchObject({
      secretKey: productionSecrets.STRIPE_SECRET_KEY,
      webhookSecret: productionSecrets.STRIPE_WEBHOOK_SECRET,
    });
  });

  it('starts production with no development default for any secret, naming each one missing', () => {
    const issuesOf = (env: Record<string, string>): string => {
      try {
        loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks', ...env });
      } catch (error) {
        return (error as ConfigError).issues.join('\n');
      }
      return '';
    };
    // The reproduction: real JWT and consent settings, nothing for Stripe.
    const missingStripe = issuesOf({ CONSENT_TOKEN_SECRET: productionSecrets.CONSENT_TOKEN_SECRET });
    expect(missingStripe).toMatch(/^STRIPE_SECRET_KEY: required in production/m);
    expect(missingStripe).toMatch(/^STRIPE_WEBHOOK_SECRET: required in production/m);
    expect(issuesOf({})).toMatch(/^CONSENT_TOKEN_SECRET: required in production/m);
    // Secrets written down in this repository (dev defaults, docker-compose) are public.
    for (const [name, published] of [
      ['STRIPE_WEBHOOK_SECRET', 'whsec_dev_only'],
      ['STRIPE_WEBHOOK_SECRET', 'whsec_eventbook_compose'],
      ['STRIPE_SECRET_KEY', 'sk_test_123'],
      ['CONSENT_TOKEN_SECRET', 'eventbook-dev-only-consent-secret-change-me'],
      ['NOTIFICATION_WEBHOOK_SECRET', DEV_JWT_SECRET],
    ] as const) {
      expect(issuesOf({ ...productionSecrets, [name]: published })).toMatch(new RegExp(`^${name}: is a value published in this repository`, 'm'));
    }
    expect(issuesOf(productionSecrets)).toBe('');
  });

  it('keeps the development defaults outside production', () => {
    expect(loadConfig({}).stripe).toMatchObject({ secretKey: 'sk_test_123', webhookSecret: 'whsec_dev_only' });
    expect(loadConfig({ NODE_ENV: 'test' }).signup.consentTokenSecret).toHaveLength(43);
  });

  it('does not fall back to the dev secret once a real key source is configured', () => {
    expect(loadConfig({ JWT_JWKS_URL: 'https://idp.example/jwks' }).jwt.devSecret).toBeUndefined();
  });

  it('reads the read replicas as a list of PostgreSQL URLs, none by default', () => {
    expect(loadConfig({}).database.readReplicaUrls).toEqual([]);
    expect(
      loadConfig({ DATABASE_READ_REPLICA_URLS: 'postgres://r1:5432/eventbook, postgres://r2:5432/eventbook' }).database.readReplicaUrls,
    ).toEqual(['postgres://r1:5432/eventbook', 'postgres://r2:5432/eventbook']);
    expect(() => loadConfig({ DATABASE_READ_REPLICA_URLS: 'mysql://r1/eventbook' })).toThrow(/DATABASE_READ_REPLICA_URLS/);
  });
});
