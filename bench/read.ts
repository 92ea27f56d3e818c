/**
 * Public read throughput: the real app against a bare Express handler sending a body of the same size.
 *   npm run bench:read -- [--events 500] [--connections 16] [--duration 10] [--rounds 3]
 *
 * A child process serves both: the real app (createApp with a real ORM on a dedicated database,
 * eventbook_bench_read, seeded and dropped here, and a real Temporal client on a dev server) and a
 * bare Express app whose one handler res.json()s a copy of the real list page. This process drives
 * them one after the other with autocannon (same connections and duration, loopback only), so the
 * load generator never shares an event loop with the server it measures, and prints req/s, latency
 * and the ratio real/bare, also for a list whose every request is a new URL (no response-cache hit).
 * The list and its baseline are measured --rounds times, each pair back to back, and the median
 * pair is reported: on this small shared machine one pair alone swung between 0.49 and 0.89.
 * The app logs every request at info as in production (to /dev/null).
 * Each target also reports the serving process's CPU time per request (user + system, over the
 * measured run): on a machine shared with other work, req/s moves with what the neighbours do,
 * while CPU per request is what the code costs, and compares across runs.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import express from 'express';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer } from '../scripts/lib/temporal-server.js';
import { createTokenVerifier } from '../src/auth/tokens.js';
import { getConfig } from '../src/config.js';
import { dropDatabase, ensureDatabase, withDatabaseName } from '../src/db/admin.js';
import { migrateToLatest, openOrm } from '../src/db/orm.js';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { benchRateLimitEnv } from '../src/limits/bench-settings.js';

const { values: args } = parseArgs({
  options: {
    serve: { type: 'boolean', default: false },
    events: { type: 'string', default: '500' },
    connections: { type: 'string', default: '16' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    // on: the limiter spends from its PostgreSQL budgets on every read (limits far above the load); off: no limits.
    'rate-limits': { type: 'string', default: 'on' },
  },
});

interface Ports {
  app: number;
  bare: number;
  listPath: string;
  eventPath: string;
  listBytes: number;
  eventBytes: number;
}

/** Child: seed, start Temporal, serve the real app and the bare one; report ports over IPC; stop on message. */
async function serve(): Promise<void> {
  const config = getConfig();
  const databaseUrl = withDatabaseName(config.database.url, 'eventbook_bench_read');
  await dropDatabase(databaseUrl);
  await ensureDatabase(databaseUrl);
  const orm = await openOrm({ url: databaseUrl, poolMax: config.database.poolMax });
  const temporalServer = await startTemporalDevServer({ log: () => {} });
  const connection = await Connection.connect({ address: temporalServer.address });
  const temporal = new Client({ connection, namespace: temporalServer.namespace });
  try {
    await migrateToLatest(orm);
    const connectionSql = orm.em.getConnection();
    await connectionSql.execute(
      `insert into event (id, status, market, timezone, default_locale, category, tags, venue, starts_at, ends_at, capacity,
                          confirmed_count, min_age, max_age, created_by, created_at, updated_at, published_at, version)
       select gen_random_uuid(), 'published', 'NO', 'Europe/Oslo', 'nb', 'workshop', '{kids}',
              jsonb_build_object('name', 'Deichman ' || i, 'address', jsonb_build_object('line1', 'Street ' || i, 'city', 'Oslo', 'country', 'NO')),
              timestamptz '2027-01-01' + i * interval '1 day', timestamptz '2027-01-01' + i * interval '1 day' + interval '2 hours',
              20 + i % 30, i % 20, 6, 12, 'bench', now(), now(), now(), 1
         from generate_series(1, ?::int) i`,
      [Number(args.events)],
    );
    await connectionSql.execute(
      `insert into event_translation (event_id, locale, title, summary, description, search_config)
       select e.id, l.locale, l.title || ' ' || left(e.id::text, 8), 'A summary for families', repeat('Lorem ipsum dolor sit amet. ', 20), l.config::regconfig
         from event e cross join (values ('nb', 'Robotverksted', 'norwegian'), ('en', 'Robot workshop', 'english')) l(locale, title, config)`,
    );
    await connectionSql.execute(
      `insert into ticket_type (id, event_id, code, names, prices)
       select gen_random_uuid(), e.id, 'child', '{"en":"Child","nb":"Barn"}', '[{"currency":"NOK","amountMinor":15000}]' from event e`,
    );
    await connectionSql.execute('vacuum analyze event, event_translation, ticket_type');

    const app = createApp({
      orm,
      temporal,
      verifyToken: await createTokenVerifier(config.jwt),
      logger: createLogger('info', 'api-bench'),
      taskQueue: config.temporal.taskQueue,
      config,
      // The rate limits count in this database (and the status feed would LISTEN there: no client asks here).
      databaseUrl,
    });
    const appServer = app.listen(0, '127.0.0.1');
    await once(appServer, 'listening');
    const appPort = (appServer.address() as AddressInfo).port;

    const listPath = '/v1/events?market=NO&from=2027-02-01T00:00:00Z&limit=20';
    const listBody = (await (await fetch(`http://127.0.0.1:${appPort}${listPath}`, { headers: { 'accept-language': 'en' } })).json()) as {
      items: { id: string }[];
    };
    const eventPath = `/v1/events/${listBody.items[0]?.id ?? ''}`;
    const eventText = await (await fetch(`http://127.0.0.1:${appPort}${eventPath}`)).text();

    // The baseline: the same bodies from a handler that does nothing else.
    const bare = express();
    bare.get('/list', (_req, res) => {
      res.json(listBody);
    });
    const bareServer = bare.listen(0, '127.0.0.1');
    await once(bareServer, 'listening');

    const ports: Ports = {
      app: appPort,
      bare: (bareServer.address() as AddressInfo).port,
      listPath,
      eventPath,
      listBytes: Buffer.byteLength(JSON.stringify(listBody)),
      eventBytes: Buffer.byteLength(eventText),
    };
    process.send?.(ports);
    // 'cpu': the driver samples this process's CPU time around a measured run; anything else stops.
    await new Promise<void>((stop) => {
      process.on('message', (message) => {
        if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
        else stop();
      });
    });
    appServer.closeAllConnections();
    bareServer.closeAllConnections();
    appServer.close();
    bareServer.close();
  } finally {
    await connection.close();
    await temporalServer.stop();
    await orm.close(true);
    await dropDatabase(databaseUrl);
  }
}

interface Result {
  name: string;
  requests: number;
  p50: number;
  p99: number;
  non2xx: number;
  bytes: number;
  /** The server's CPU time per request, microseconds. */
  cpuMicros: number;
}

/** The serving child's CPU time so far (user + system, microseconds). */
type CpuSampler = () => Promise<number>;

async function load(
  cpu: CpuSampler,
  name: string,
  url: string,
  headers: Record<string, string> = {},
  setupRequest?: (request: autocannon.Request) => autocannon.Request,
): Promise<Result> {
  const options = {
    url,
    connections: Number(args.connections),
    duration: Number(args.duration),
    headers,
    ...(setupRequest ? { requests: [{ setupRequest }] } : {}),
  };
  await autocannon({ ...options, duration: 2 }); // warm-up: JIT, connection pool, PostgreSQL caches
  const cpuBefore = await cpu();
  const result = await autocannon(options);
  const cpuUsed = (await cpu()) - cpuBefore;
  return {
    name,
    requests: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    bytes: result.throughput.average / Math.max(1, result.requests.average),
    cpuMicros: cpuUsed / Math.max(1, result.requests.total),
  };
}

async function drive(): Promise<void> {
  const child = fork(new URL(import.meta.url).pathname, ['--serve', '--events', args.events], {
    env: { ...process.env, ...benchRateLimitEnv(args['rate-limits']) },
    // BENCH_CPU_PROFILE_DIR=dir writes the server's V8 CPU profile there (open in Chrome DevTools).
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`, '--cpu-prof-name=read-server.cpuprofile'] : [])],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const [ports] = (await once(child, 'message')) as [Ports];
  const cpu: CpuSampler = async () => {
    child.send('cpu');
    const [{ cpu: usage }] = (await once(child, 'message')) as [{ cpu: NodeJS.CpuUsage }];
    return usage.user + usage.system;
  };
  try {
    const base = (port: number) => `http://127.0.0.1:${port}`;
    console.log(
      `bodies: list ${ports.listBytes} bytes, event ${ports.eventBytes} bytes; ${args.connections} connections, ${args.duration} s each; rate limits ${args['rate-limits']}`,
    );
    const pairs: { bare: Result; list: Result; ratio: number }[] = [];
    for (let round = 0; round < Math.max(1, Number(args.rounds)); round++) {
      const bareRound = await load(cpu, 'bare express, same list body', `${base(ports.bare)}/list`);
      const listRound = await load(cpu, 'GET /v1/events (list, 20 items)', `${base(ports.app)}${ports.listPath}`, { 'accept-language': 'en' });
      pairs.push({ bare: bareRound, list: listRound, ratio: listRound.requests / bareRound.requests });
    }
    pairs.sort((a, b) => a.ratio - b.ratio);
    const { bare, list } = pairs[Math.floor(pairs.length / 2)] as (typeof pairs)[number];
    // Every request a different URL (the `from` instant moves by a millisecond): no response-cache hits.
    let n = 0;
    const uncached = await load(cpu, 'GET /v1/events, every URL new (no cache)', `${base(ports.app)}${ports.listPath}`, { 'accept-language': 'en' }, (request) => ({
      ...request,
      path: ports.listPath.replace('T00:00:00Z', `T00:00:0${Math.floor((n % 10_000) / 1000)}.${String(n++ % 1000).padStart(3, '0')}Z`),
    }));
    const event = await load(cpu, 'GET /v1/events/{id}', `${base(ports.app)}${ports.eventPath}`, { 'accept-language': 'en' });
    const etag = (await fetch(`${base(ports.app)}${ports.listPath}`, { headers: { 'accept-language': 'en' } })).headers.get('etag') ?? '';
    const notModified = await load(cpu, 'GET /v1/events, If-None-Match (304)', `${base(ports.app)}${ports.listPath}`, {
      'accept-language': 'en',
      'if-none-match': etag,
    });
    console.log(
      `\n| ${'target'.padEnd(38)} | ${'req/s'.padStart(8)} | ${'p50 ms'.padStart(7)} | ${'p99 ms'.padStart(7)} | ${'non-2xx'.padStart(7)} | ${'vs bare'.padStart(7)} | ${'CPU µs/req'.padStart(10)} | ${'x bare'.padStart(6)} |`,
    );
    console.log(`|${'-'.repeat(40)}|${'-'.repeat(10)}|${'-'.repeat(9)}|${'-'.repeat(9)}|${'-'.repeat(9)}|${'-'.repeat(9)}|${'-'.repeat(12)}|${'-'.repeat(8)}|`);
    for (const r of [bare, list, uncached, event, notModified]) {
      console.log(
        `| ${r.name.padEnd(38)} | ${r.requests.toFixed(0).padStart(8)} | ${r.p50.toFixed(1).padStart(7)} | ${r.p99.toFixed(1).padStart(7)} | ${String(r.non2xx).padStart(7)} | ${(r.requests / bare.requests).toFixed(2).padStart(7)} | ${r.cpuMicros.toFixed(0).padStart(10)} | ${(r.cpuMicros / bare.cpuMicros).toFixed(2).padStart(6)} |`,
      );
    }
    console.log(`\nratio real list / bare, each round: ${pairs.map((pair) => pair.ratio.toFixed(2)).join(', ')} (table: the median round)`);
    console.log(`ratio real list / bare: ${(list.requests / bare.requests).toFixed(2)} (target >= 0.6); without the response cache: ${(uncached.requests / bare.requests).toFixed(2)}`);
  } finally {
    child.send('stop');
    await once(child, 'exit');
  }
}

if (args.serve) {
  await serve();
  process.exit(0); // whatever handles are left, so a --cpu-prof profile gets written
} else {
  await drive();
}
