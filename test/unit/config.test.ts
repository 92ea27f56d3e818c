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

  it('refuses dev tokens and missing keys in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_JWKS_URL: production needs/);
    expect(() =>
      loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks', JWT_DEV_SECRET: 'x'.repeat(40) }),
    ).toThrow(/JWT_DEV_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks' })).toThrow(
      /CONSENT_TOKEN_SECRET: set a secret of your own/,
    );
    const production = loadConfig({
      NODE_ENV: 'production',
      JWT_JWKS_URL: 'https://idp.example/jwks',
      CONSENT_TOKEN_SECRET: 'a-real-secret-from-the-vault-0123456789',
    });
    expect(production.jwt.devSecret).toBeUndefined();
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
