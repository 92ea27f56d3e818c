import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { configVariableNames, loadConfig } from '../../src/config.js';
import { cliTypeNames } from '../../scripts/lib/temporal-server.js';
import { allSearchAttributeKeys } from '../../src/temporal/contract.js';

/**
 * docker-compose.yml is checked against the code it runs: the environment it hands the API, the
 * worker and the migrate job must use the names src/config.ts reads (a renamed variable would
 * otherwise be ignored silently and the default used), and the search attributes it registers
 * must be the contract's.
 */

type Env = Record<string, string | undefined>;

interface ComposeService {
  environment?: Record<string, unknown> | string[];
  command?: string | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

const appServices = ['api', 'worker', 'migrate'] as const;
const searchAttributeJob = 'temporal-search-attributes';

/**
 * Compose's interpolation, with nothing set in the shell: `${VAR:-default}` and `${VAR-default}`
 * give the default, `${VAR}` and `$VAR` give '', and `$$` is a literal `$`. The host's environment
 * is deliberately not read (the test stack sets DATABASE_URL and others), so what is checked is
 * what the file itself provides.
 */
function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match: string, name?: string, operator?: string, argument?: string) => {
      if (match === '$$') return '$';
      if (operator === undefined) return '';
      if (operator.endsWith('-')) {
        if (argument?.includes('$')) throw new Error(`nested interpolation is not supported here: ${match}`);
        return argument ?? '';
      }
      if (operator.endsWith('?')) throw new Error(`${name} is required by the compose file (${match}) and has no default`);
      return ''; // ${VAR:+alternative}: VAR is unset
    },
  );
}

function interpolateAll(node: unknown): unknown {
  if (typeof node === 'string') return interpolate(node);
  if (Array.isArray(node)) return node.map(interpolateAll);
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolateAll(value)]));
  }
  return node;
}

function loadCompose(): ComposeFile {
  const text = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
  // merge: the file may use YAML merge keys (<<: *anchor), as Compose allows.
  return interpolateAll(parse(text, { merge: true })) as ComposeFile;
}

function service(compose: ComposeFile, name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** A service's environment as the container sees it; a bare name (taken from the shell) is unset. */
function environmentOf(compose: ComposeFile, name: string): Env {
  const environment = service(compose, name).environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const separator = entry.indexOf('=');
        return separator < 0 ? [entry, undefined] : [entry.slice(0, separator), entry.slice(separator + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, scalar(key, value)]));
}

function scalar(key: string, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`environment variable ${key} must be a string, number or boolean in docker-compose.yml`);
}


describe('docker-compose.yml', () => {
  const compose = loadCompose();

  it.each(appServices)('sets only variables src/config.ts reads for %s', (name) => {
    const known = new Set([...configVariableNames, 'NODE_ENV']);
    const stale = Object.keys(environmentOf(compose, name)).filter((variable) => !known.has(variable));
    expect(stale).toEqual([]);
  });

  it.each(['api', 'worker'])('gives %s the database, Temporal and SMTP', (name) => {
    const env = environmentOf(compose, name);
    for (const variable of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'SMTP_HOST']) {
      expect({ variable, value: env[variable] }).toEqual({ variable, value: expect.stringMatching(/\S/) });
    }
  });

  it('hands the API an environment loadConfig accepts, pointing at the compose services', () => {
    const config = loadConfig(environmentOf(compose, 'api'));
    expect(config.env).toBe('development');
    expect(new URL(config.database.url).hostname).toBe('postgres');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.smtp.host).toBe('mailpit');
    expect(config.stripe.apiBase?.host).toBe('stripe-mock:12111');
    expect(config.jwt.devSecret).toBeDefined();
  });

  it.each(['worker', 'migrate'])('hands %s an environment loadConfig accepts', (name) => {
    expect(() => loadConfig(environmentOf(compose, name))).not.toThrow();
  });

  it('registers exactly the search attributes of src/temporal/contract.ts, in the namespace the app uses', () => {
    const job = service(compose, searchAttributeJob);
    const env = environmentOf(compose, searchAttributeJob);
    const registered = (env.SEARCH_ATTRIBUTES ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const [attribute, type] = pair.split('=');
        return `${attribute}=${type}`;
      });
    const expected = allSearchAttributeKeys.map((key) => `${key.name}=${cliTypeNames[key.type] ?? key.type}`);
    expect(registered.sort()).toEqual(expected.sort());

    // The list above is what the job's script loops over.
    const script = [job.command ?? []].flat().join('\n');
    expect(script).toContain('$SEARCH_ATTRIBUTES');
    expect(script).toContain('temporal operator search-attribute create');
    expect(env.TEMPORAL_NAMESPACE).toBe(environmentOf(compose, 'api').TEMPORAL_NAMESPACE);
  });

  it.each(['api', 'worker'])('starts %s only after the migrations and the search attributes', (name) => {
    const dependsOn = service(compose, name).depends_on;
    expect(dependsOn).toMatchObject({
      migrate: { condition: 'service_completed_successfully' },
      [searchAttributeJob]: { condition: 'service_completed_successfully' },
    });
  });
});
