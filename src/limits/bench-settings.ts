/**
 * Rate limit settings for the benchmarks (bench/read.ts, bench/signup-burst.ts): `on` keeps every
 * budget in force but far above what one load generator sends, so the numbers show what the
 * limiter costs, not its refusals; `off` turns every budget off, for the comparison.
 */
export function benchRateLimitEnv(mode: string): Record<string, string> {
  if (mode !== 'on' && mode !== 'off') throw new Error(`--rate-limits on|off, not ${mode}`);
  const value = mode === 'on' ? '9999999/60' : '0';
  return Object.fromEntries(
    [
      'RATE_LIMIT_SIGNUP_PER_USER',
      'RATE_LIMIT_SIGNUP_PER_ADDRESS',
      'RATE_LIMIT_ADMIN_PER_USER',
      'RATE_LIMIT_ADMIN_PER_ADDRESS',
      'RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS',
      'RATE_LIMIT_PUBLIC_READS_PER_ADDRESS',
    ].map((name) => [name, value]),
  );
}
