import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Finds the Go-built tools the stack runs (the Temporal CLI and stripe-mock), building them once
 * with `go install` into a cache outside the checkout so every clone reuses them.
 */

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
export const STRIPE_MOCK_MODULE = 'github.com/stripe/stripe-mock@v0.203.0';

export const toolCacheDir = join(process.env.EVENTBOOK_CACHE ?? join(homedir(), '.cache', 'eventbook'), 'bin');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function goBinary(): string | undefined {
  return onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

interface ToolSpec {
  /** Environment variable that names the binary explicitly. */
  envVar: string;
  binary: string;
  module: string;
}

/** The binary's path, or undefined when it is not here and Go is not there to build it. */
export function findOrBuildTool(spec: ToolSpec, log: (line: string) => void = console.error): string | undefined {
  const explicit = process.env[spec.envVar];
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`${spec.envVar}=${explicit} is not an executable file`);
    return explicit;
  }
  const cached = join(toolCacheDir, spec.binary);
  if (isExecutable(cached)) return cached;
  const installed = onPath(spec.binary);
  if (installed) return installed;

  const go = goBinary();
  if (!go) return undefined;
  mkdirSync(toolCacheDir, { recursive: true });
  log(`building ${spec.module} with go install (once; cached in ${toolCacheDir})`);
  const result = spawnSync(go, ['install', spec.module], {
    env: { ...process.env, GOBIN: toolCacheDir, GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0 || !existsSync(cached)) throw new Error(`go install ${spec.module} failed`);
  return cached;
}

export function findOrBuildTemporalCli(log?: (line: string) => void): string | undefined {
  return findOrBuildTool({ envVar: 'TEMPORAL_CLI', binary: 'temporal', module: TEMPORAL_CLI_MODULE }, log);
}

export function findOrBuildStripeMock(log?: (line: string) => void): string | undefined {
  return findOrBuildTool({ envVar: 'STRIPE_MOCK', binary: 'stripe-mock', module: STRIPE_MOCK_MODULE }, log);
}

export function toolVersion(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
}
