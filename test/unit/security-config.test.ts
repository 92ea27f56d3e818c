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
});
