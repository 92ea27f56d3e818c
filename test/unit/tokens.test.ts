import { describe, expect, it } from '@jest/globals';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { createTokenVerifier, InvalidTokenError, mintDevToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';

const devJwt = loadConfig({}).jwt;

describe('dev tokens', () => {
  it('round-trips subject, roles and markets', async () => {
    const verify = await createTokenVerifier(devJwt);
    const token = await mintDevToken(devJwt, { sub: 'u1', roles: ['organizer'], markets: ['NO', 'SE'] });
    await expect(verify(token)).resolves.toEqual({ userId: 'u1', roles: ['organizer'], markets: ['NO', 'SE'], profile: {} });
  });

  it('reads the profile claims, and ignores malformed ones instead of refusing the token', async () => {
    const verify = await createTokenVerifier(devJwt);
    const token = await mintDevToken(devJwt, {
      sub: 'u2',
      roles: ['participant'],
      extraClaims: { email: 'kid@example.test', birthdate: '2014-02-03', guardian_email: 'not-an-address', locale: 'nb' },
    });
    await expect(verify(token)).resolves.toMatchObject({
      profile: { email: 'kid@example.test', birthDate: '2014-02-03', locale: 'nb' },
    });
    expect((await verify(token)).profile).not.toHaveProperty('guardianEmail');
  });

  it.each([
    ['expired', { ttlSeconds: -10 }, devJwt],
    ['for another audience', {}, { ...devJwt, audience: 'other-api' }],
    ['from another issuer', {}, { ...devJwt, issuer: 'someone-else' }],
    ['signed with another secret', {}, { ...devJwt, devSecret: 'y'.repeat(48) }],
  ])('refuses a token %s', async (_name, options, mintWith) => {
    const verify = await createTokenVerifier(devJwt);
    const token = await mintDevToken(mintWith, { sub: 'u1', roles: ['participant'], ...options });
    await expect(verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('refuses a token without a known role', async () => {
    const verify = await createTokenVerifier(devJwt);
    const token = await mintDevToken(devJwt, { sub: 'u1', roles: [], extraClaims: { roles: ['superuser'] } });
    await expect(verify(token)).rejects.toThrow(/known role/);
  });
});

describe("an identity provider's public key", () => {
  it('verifies RS256 tokens signed with the matching private key, and no dev token', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwt = loadConfig({ JWT_PUBLIC_KEY: await exportSPKI(publicKey) }).jwt;
    const verify = await createTokenVerifier(jwt);
    const token = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('idp-user')
      .setIssuer(jwt.issuer)
      .setAudience(jwt.audience)
      .setExpirationTime('5m')
      .sign(privateKey);

    await expect(verify(token)).resolves.toMatchObject({ userId: 'idp-user', roles: ['admin'] });
    const devToken = await mintDevToken(devJwt, { sub: 'u1', roles: ['admin'] });
    await expect(verify(devToken)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});
