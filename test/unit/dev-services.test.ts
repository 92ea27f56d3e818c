/**
 * `npm run dev`'s choices that keep two stacks on one machine apart: the worker's metrics ports
 * fall back to free ones like every other default (set ones stay as they are), the Temporal
 * dev server's state is one file per database, and the scripts are told where this stack is.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { freePort } from '../../scripts/lib/ports.js';
import { devWorkerMetricsEnv, preferredPort, releasePortClaims, scriptEnvFor, temporalStateFile } from '../../scripts/lib/dev-services.js';

const defaults = { sdkAddress: '127.0.0.1:9464', appPort: 9465 };
/** Ports in `taken` are busy: the fallback for each is 40000 + its number. */
const pickWith = (taken: number[]) => (port: number) => Promise.resolve(taken.includes(port) ? 40_000 + (port % 1000) : port);

describe('devWorkerMetricsEnv', () => {
  it.each([
    ['defaults free', {}, [], { WORKER_METRICS_ADDRESS: '127.0.0.1:9464', WORKER_APP_METRICS_PORT: '9465' }],
    ['defaults taken: free ports instead', {}, [9464, 9465], { WORKER_METRICS_ADDRESS: '127.0.0.1:40464', WORKER_APP_METRICS_PORT: '40465' }],
    ['one taken', {}, [9465], { WORKER_METRICS_ADDRESS: '127.0.0.1:9464', WORKER_APP_METRICS_PORT: '40465' }],
    ['set ones are used as they are, taken or not', { WORKER_METRICS_ADDRESS: '0.0.0.0:9464', WORKER_APP_METRICS_PORT: '9465' }, [9464, 9465], { WORKER_METRICS_ADDRESS: '0.0.0.0:9464', WORKER_APP_METRICS_PORT: '9465' }],
    ['turned off stays off', { WORKER_METRICS_ADDRESS: '', WORKER_APP_METRICS_PORT: '0' }, [], { WORKER_METRICS_ADDRESS: '', WORKER_APP_METRICS_PORT: '0' }],
  ])('%s', async (_name, env: NodeJS.ProcessEnv, taken: number[], expected) => {
    expect(await devWorkerMetricsEnv(env, defaults, pickWith(taken))).toEqual(expected);
  });

  it('never gives both the same port', async () => {
    const env = await devWorkerMetricsEnv({}, defaults, () => Promise.resolve(41_000));
    expect(env.WORKER_METRICS_ADDRESS).toBe('127.0.0.1:41000');
    expect(env.WORKER_APP_METRICS_PORT).not.toBe('41000');
  });
});

describe('temporalStateFile', () => {
  it.each([
    ['postgres://postgres@127.0.0.1:5432/eventbook', '/d/temporal.sqlite'],
    ['postgres://postgres@127.0.0.1:5432/eventbook_b', '/d/temporal-eventbook_b.sqlite'],
    ['postgres://postgres@127.0.0.1:5433/other?host=/run/postgresql', '/d/temporal-other.sqlite'],
    ['postgres://postgres@127.0.0.1:5432/we%20ird.db', '/d/temporal-we_ird_db.sqlite'],
  ])('%s', (url, file) => {
    expect(temporalStateFile('/d', url)).toBe(file);
  });
});

describe('scriptEnvFor', () => {
  const defaults = { database: { url: 'postgres://postgres@127.0.0.1:5432/eventbook' }, temporal: { address: '127.0.0.1:7233' } };
  it.each([
    ['the defaults', 'postgres://postgres@127.0.0.1:5432/eventbook', '127.0.0.1:7233', ''],
    ['a second stack', 'postgres://postgres@127.0.0.1:5432/eventbook_b', '127.0.0.1:38499', "DATABASE_URL='postgres://postgres@127.0.0.1:5432/eventbook_b' TEMPORAL_ADDRESS=127.0.0.1:38499"],
    ['only Temporal moved', 'postgres://postgres@127.0.0.1:5432/eventbook', '127.0.0.1:38499', 'TEMPORAL_ADDRESS=127.0.0.1:38499'],
  ])('%s', (_name, databaseUrl, temporalAddress, expected) => {
    expect(scriptEnvFor({ databaseUrl, temporalAddress }, defaults)).toBe(expected);
  });
});

describe('preferredPort', () => {
  it('passes over a free port that another live dev runner chose and has not bound yet', async () => {
    const port = await freePort();
    const claims = join(tmpdir(), 'eventbook-dev-ports');
    mkdirSync(claims, { recursive: true });
    // Our parent process stands in for the other runner: alive, not us.
    writeFileSync(join(claims, String(port)), String(process.ppid));
    expect(await preferredPort(port)).not.toBe(port);
    // A claim of a process that is gone counts for nothing; ours is then ours.
    writeFileSync(join(claims, String(port)), '999999999');
    expect(await preferredPort(port)).toBe(port);
    expect(await preferredPort(port)).toBe(port);
    releasePortClaims();
  });
});
