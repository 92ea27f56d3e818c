/**
 * `npm run dev`'s choices that keep two stacks on one machine apart: the worker's metrics ports
 * fall back to free ones like every other default (set ones stay as they are), and the Temporal
 * dev server's state is one file per database.
 */
import { describe, expect, it } from '@jest/globals';
import { devWorkerMetricsEnv, temporalStateFile } from '../../scripts/lib/dev-services.js';

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
