/**
 * Mints a dev token the API accepts when it runs with the dev secret (never in production).
 *   npm run token -- --sub u1 --role admin [--role organizer] [--market NO] [--ttl 3600]
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
  },
});
const args = z
  .object({
    sub: z.string().min(1),
    role: z.array(z.enum(roles)).min(1).default(['participant']),
    market: z.array(z.string()).default([]),
    ttl: z.coerce.number().int().positive().default(3600),
  })
  .safeParse(values);
if (!args.success) {
  console.error('usage: npm run token -- --sub <user id> [--role participant|organizer|admin]... [--market NO]... [--ttl seconds]');
  process.exit(2);
}
const token = await mintDevToken(configOrExit().jwt, {
  sub: args.data.sub,
  roles: args.data.role,
  markets: args.data.market,
  ttlSeconds: args.data.ttl,
});
console.log(token);
