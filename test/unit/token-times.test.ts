import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { CLOCK_TOLERANCE_SECONDS, createTokenVerifier, InvalidTokenError } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';

const jwt = loadConfig({}).jwt;
const now = () => Math.floor(Date.now() / 1000);

function sign(claims: { iat?: number; nbf?: number; exp?: number }, secret = jwt.devSecret ?? ''): Promise<string> {
  const token = new SignJWT({ roles: ['participant'], ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('times-user')
    .setIssuer(jwt.issuer)
    .setAudience(jwt.audience)
    .setExpirationTime(claims.exp ?? now() + 3600);
  return token.sign(new TextEncoder().encode(secret));
}

describe('token times and refusals in our words', () => {
  it.each([
    ['issued 10 years ahead', { iat: now() + 10 * 365 * 86_400 }, 'the token is issued in the future'],
    ['issued beyond the tolerance', { iat: now() + CLOCK_TOLERANCE_SECONDS + 30 }, 'the token is issued in the future'],
    ['not valid for an hour', { nbf: now() + 3600 }, 'the token is not valid yet'],
    ['expired a second ago', { exp: now() - 1 }, 'the token has expired'],
  ])('refuses a token %s', async (_what, claims, message) => {
    const verify = await createTokenVerifier(jwt);
    await expect(verify(await sign(claims))).rejects.toThrow(new InvalidTokenError(message));
  });

  it('accepts iat and nbf within the clock tolerance', async () => {
    const verify = await createTokenVerifier(jwt);
    await expect(verify(await sign({ iat: now() + 20, nbf: now() + 20 }))).resolves.toMatchObject({ userId: 'times-user' });
  });

  it("says why in our words, never the library's", async () => {
    const verify = await createTokenVerifier(jwt);
    const wrongKey = await sign({}, 'another-secret-of-at-least-thirty-two-characters');
    await expect(verify(wrongKey)).rejects.toThrow(new InvalidTokenError('the token signature does not verify'));
    await expect(verify('not-a-jwt')).rejects.toThrow(new InvalidTokenError('the token is not a well-formed JWT'));
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
    await expect(verify(unsigned)).rejects.toThrow(InvalidTokenError);
    await verify(unsigned).catch((error: Error) => expect(error.message).not.toMatch(/alg|HS256|key|JWS|"/i));
  });
});
