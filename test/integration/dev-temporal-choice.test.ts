/**
 * `npm run dev` never shares a Temporal server it did not start: with one already answering on the
 * usual port (here the test run's own dev server stands in for another checkout's on 7233) it
 * starts its own on another port, says so, and stops it on exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { chooseTemporal } from '../../scripts/lib/dev-services.js';
import { temporalAnswers } from '../../scripts/lib/temporal-server.js';
import { requireEnv } from '../support/environment.js';

const stateDir = mkdtempSync(join(tmpdir(), 'eventbook-dev-temporal-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('the dev runner choosing Temporal', () => {
  it('starts its own dev server when another one answers on the usual port', async () => {
    const other = requireEnv('TEMPORAL_ADDRESS');
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
    expect(await temporalAnswers(other, namespace)).toBe(true);
    const lines: string[] = [];
    const choice = await chooseTemporal({
      namespace,
      dbFilename: join(stateDir, 'temporal.sqlite'),
      log: (line) => lines.push(line),
      usualPort: Number(other.split(':').pop()),
    });
    try {
      expect(choice.address).not.toBe(other);
      expect(choice.origin).toMatch(/^our own dev server/);
      expect(lines.join('\n')).toMatch(/is taken \(another Temporal\?\): starting our own dev server on \d+, not sharing that one/);
      expect(await temporalAnswers(choice.address, namespace)).toBe(true);
    } finally {
      await choice.stop?.();
    }
  }, 60_000);

  it('uses TEMPORAL_ADDRESS as it is', async () => {
    const choice = await chooseTemporal({ configuredAddress: '10.0.0.9:7233', namespace: 'default', dbFilename: '/nonexistent', log: () => {} });
    expect(choice).toEqual({ address: '10.0.0.9:7233', origin: 'TEMPORAL_ADDRESS' });
  });
});
