import { describe, expect, it } from '@jest/globals';
import { ConfigError, DEV_CORS_ORIGINS, loadConfig } from '../../src/config.js';

/** The security settings (CORS, proxies, rate limits, metrics access): defaults and parsing. */
const production = {
  NODE_ENV: 'production',
  JWT_JWKS_URL: 'https://idp.example.com/jwks',
  CONSENT_TOKEN_SECRET: 'c'.repeat(40),
  STRIPE_SECRET_KEY: 'sk_live_' + 'k'.repeat(24),
  STRIPE_WEBHOOK_SECRET: 'whsec_' + 'w'.repeat(24),
};

describe('security settings', () => {
  it('CORS_ORIGINS: none in production by default, the local dev servers otherwise, or the list given', () => {
    expect(loadConfig(production).http.corsOrigins).toEqual([]);
    expect(loadConfig({}).http.corsOrigins).toEqual(DEV_CORS_ORIGINS);
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com, https://admin.example.com:8443' }).http.corsOrigins).toEqual([
      'https://app.example.com',
      'https://admin.example.com:8443',
    ]);
    expect(loadConfig({ CORS_ORIGINS: 'none' }).http.corsOrigins).toEqual([]);
    for (const bad of ['*', 'https://app.example.com/path', 'app.example.com']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad })).toThrow(ConfigError);
    }
  });

  it('rate limits: <requests>/<seconds> or 0 for off, with defaults; TRUST_PROXY as Express reads it', () => {
    const defaults = loadConfig({});
    expect(defaults.rateLimits.signupPerUser).toEqual({ points: 30, seconds: 60 });
    expect(defaults.rateLimits.authFailuresPerAddress).toEqual({ points: 100, seconds: 600 });
    expect(defaults.http.trustProxy).toBe(false);
    const set = loadConfig({ RATE_LIMIT_SIGNUP_PER_USER: '5/10', RATE_LIMIT_PUBLIC_READS_PER_ADDRESS: '0', TRUST_PROXY: '2' });
    expect(set.rateLimits.signupPerUser).toEqual({ points: 5, seconds: 10 });
    expect(set.rateLimits.publicReadsPerAddress.points).toBe(0);
    expect(set.http.trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).toBe('loopback, 10.0.0.0/8');
    for (const bad of ['5', '5/0', 'x/60', '-1/60']) expect(() => loadConfig({ RATE_LIMIT_ADMIN_PER_USER: bad })).toThrow(ConfigError);
  });
});
