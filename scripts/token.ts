/**
 * Mints a dev token the API accepts when it runs with the dev secret (never in production).
 *   npm run token -- --sub u1 --role admin [--role organizer] [--market NO] [--ttl 3600]
 *     [--email a@example.com] [--birthdate 2014-05-01] [--guardian-email parent@example.com] [--locale nb]
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { roles } from '../src/auth/principal.js';
import { mintDevToken } from '../src/auth/tokens.js';
import { configOrExit } from '../src/main-support.js';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    role: { type: 'string', multiple: true },
    market: { type: 'string', multiple: true },
    ttl: { type: 'string' },
    email: { type: 'string' },
    birthdate: { type: 'string' },
    'guardian-email': { type: 'string' },
    locale: { type: 'string' },
  },
});
const args = z
  .object({
    sub: z.string().min(1),
    role: z.array(z.enum(roles)).min(1).default(['participant']),
    market: z.array(z.string()).default([]),
    ttl: z.coerce.number().int().positive().default(3600),
    // Profile claims, as an identity provider would send them (e-mails go to `email`).
    email: z.email().optional(),
    birthdate: z.iso.date().optional(),
    'guardian-email': z.email().optional(),
    locale: z.string().optional(),
  })
  .safeParse(values);
if (!args.success) {
  console.error('usage: npm run token -- --sub <user id> [--role participant|organizer|admin]... [--market NO]... [--ttl seconds] [--email a@b] [--birthdate YYYY-MM-DD] [--guardian-email a@b] [--locale nb]');
  process.exit(2);
}
const token = await mintDevToken(configOrExit().jwt, {
  sub: args.data.sub,
  roles: args.data.role,
  markets: args.data.market,
  ttlSeconds: args.data.ttl,
  extraClaims: Object.fromEntries(
    Object.entries({
      email: args.data.email,
      birthdate: args.data.birthdate,
      guardian_email: args.data['guardian-email'],
      locale: args.data.locale,
    }).filter(([, value]) => value !== undefined),
  ),
});
console.log(token);
