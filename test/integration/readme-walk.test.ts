/**
 * The README's "First signup with curl" block, run as written through bash against a real API and
 * worker: the commands come out of README.md itself, so the test breaks when the README drifts.
 * The only change made to them is the address (`localhost:3000` becomes the test API's); `npm run -s
 * seed` and `npm run -s token` read DATABASE_URL and the dev token secret from the environment the
 * test stack set up, exactly as they would on a developer's machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mailTo } from '../support/mailbox.js';
import { eventually, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let outDir: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
  outDir = mkdtempSync(join(tmpdir(), 'readme-walk-'));
});

afterAll(async () => {
  await stack.stop();
  rmSync(outDir, { recursive: true, force: true });
});

interface WalkCommand {
  /** The command as the README writes it (continuation lines joined by bash itself). */
  text: string;
  /** Its own trailing comment plus the comment-only lines right after it: what the README says it answers. */
  claims: string;
}

/** The first ```sh block after the heading, split into commands. */
function walkCommands(readme: string, heading: string): WalkCommand[] {
  const at = readme.indexOf(heading);
  if (at === -1) throw new Error(`README has no "${heading}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block?.[1]) throw new Error(`no sh block after "${heading}"`);
  const commands: WalkCommand[] = [];
  let pending: string[] = [];
  for (const line of block[1].split('\n')) {
    if (pending.length === 0 && line.trim().startsWith('#')) {
      const last = commands.at(-1);
      if (last) last.claims += `\n${line}`;
      continue;
    }
    if (pending.length === 0 && line.trim() === '') continue;
    pending.push(line);
    if (line.endsWith('\\')) continue;
    const text = pending.join('\n');
    const comment = / #\s(.*)$/.exec(pending.at(-1) ?? '');
    commands.push({ text, claims: comment?.[1] ?? '' });
    pending = [];
  }
  if (pending.length > 0) throw new Error('the README block ends inside a command');
  return commands;
}

interface WalkRun {
  code: number | null;
  outputs: { stdout: string; stderr: string }[];
}

/** Runs the commands in one bash, each one's stdout and stderr into files of its own. */
async function runWalk(commands: WalkCommand[], baseUrl: string, timeoutMs: number): Promise<WalkRun> {
  const host = baseUrl.replace(/^http:\/\//, '');
  const script = [
    'set -eo pipefail',
    ...commands.map((command, index) =>
      // On lines of their own: a trailing comment must not swallow the closing brace. A brace
      // group is no subshell, so assignments stay for the next commands and `&` jobs stay waitable.
      `{\n${command.text.replaceAll('localhost:3000', host)}\n} > ${join(outDir, `${index}.out`)} 2> ${join(outDir, `${index}.err`)}`,
    ),
  ].join('\n');
  const scriptPath = join(outDir, 'walk.sh');
  writeFileSync(scriptPath, script);
  const child = spawn('bash', [scriptPath], { cwd: process.cwd(), env: process.env, stdio: 'ignore', detached: true });
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
      reject(new Error(`the README walk did not finish in ${timeoutMs} ms:\n${describeOutputs(commands)}`));
    }, timeoutMs);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
    child.on('error', reject);
  });
  return { code, outputs: commands.map((_, index) => readOutputs(index)) };
}

function readOutputs(index: number): { stdout: string; stderr: string } {
  const read = (suffix: string) => {
    try {
      return readFileSync(join(outDir, `${index}.${suffix}`), 'utf8');
    } catch {
      return '(not run)';
    }
  };
  return { stdout: read('out'), stderr: read('err') };
}

function describeOutputs(commands: WalkCommand[]): string {
  return commands
    .map((command, index) => {
      const { stdout, stderr } = readOutputs(index);
      return `$ ${command.text}\n[stdout] ${stdout}\n[stderr] ${stderr}`;
    })
    .join('\n\n');
}

/** The JSON object a command printed (stdout, or stderr where the README tees it there). */
function jsonOf(output: { stdout: string; stderr: string }): Record<string, unknown> {
  for (const text of [output.stdout, output.stderr]) {
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) return JSON.parse(trimmed) as Record<string, unknown>;
  }
  throw new Error(`no JSON answer in ${JSON.stringify(output)}`);
}

/** The `data` of each `signup` event of a server-sent event stream. */
function sseSignups(stream: string): { status: string }[] {
  return stream
    .split('\n\n')
    .filter((frame) => frame.includes('event: signup'))
    .map((frame) => {
      const data = frame.split('\n').find((line) => line.startsWith('data: '));
      if (!data) throw new Error(`a signup event without data: ${frame}`);
      return JSON.parse(data.slice('data: '.length)) as { status: string };
    });
}

describe("README's first signup with curl", () => {
  it('runs as written and answers what the README shows', async () => {
    const commands = walkCommands(readFileSync('README.md', 'utf8'), '### First signup with curl');
    const run = await runWalk(commands, stack.api.baseUrl, 150_000);
    if (run.code !== 0) throw new Error(`the README walk failed (exit ${run.code}):\n${describeOutputs(commands)}`);

    // Every status the README claims for a command is the status that command answered.
    let claimsChecked = 0;
    commands.forEach((command, index) => {
      const claimed = /"status":"(\w+)"|status: (\w+)/.exec(command.claims);
      if (!claimed) return;
      const output = run.outputs[index];
      if (!output) throw new Error(`no output of ${command.text}`);
      expect({ command: command.text, status: jsonOf(output).status }).toEqual({
        command: command.text,
        status: claimed[1] ?? claimed[2],
      });
      claimsChecked += 1;
    });
    expect(claimsChecked).toBeGreaterThanOrEqual(3);

    const follow = commands.findIndex((command) => command.text.includes('/events') && command.text.includes('-sN'));
    const signupsStream = sseSignups(run.outputs[follow]?.stdout ?? '');
    expect(signupsStream.at(-1)?.status).toBe('cancelled');

    const status = commands.findIndex((command) => /curl -s localhost:3000\/v1\/signups\/\$SIGNUP -H/.test(command.text));
    const view = jsonOf(run.outputs[status] ?? { stdout: '', stderr: '' }) as { attendees: { ticketCode: string | null }[] };
    expect(view.attendees).toHaveLength(2);
    for (const attendee of view.attendees) expect(attendee.ticketCode).toMatch(/^[0-9A-Z]{20}$/);

    // "The cancellation e-mail is in maildev, and the confirmation before it unless the cancel came
    // first": which of the two happened depends on whether the cancel beat the door group's mailing,
    // but never a confirmation twice (the group's flow and the signup's own workflow both mailed it).
    const subjects = await eventually(
      'the cancellation mail',
      async () => {
        const mails = (await mailTo('u1@example.test')).map((mail) => mail.subject);
        return mails.some((s) => s.startsWith('Cancelled')) ? mails : undefined;
      },
      60_000,
      500,
    );
    expect(subjects.filter((s) => s.startsWith('Cancelled'))).toHaveLength(1);
    expect(subjects.filter((s) => s.startsWith("You're in")).length).toBeLessThanOrEqual(1);
    expect(subjects).toEqual(expect.arrayContaining([expect.stringContaining('Lego build day')]));
  }, 240_000);
});
