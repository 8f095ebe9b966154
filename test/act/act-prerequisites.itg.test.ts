import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findOnPath, locateAct } from '../../scripts/act/tools.js';

const root = new URL('../..', import.meta.url).pathname;
const pnpm = findOnPath('pnpm', process.env.PATH);

/** A PATH a new user might have: node and pnpm, system directories, but neither act nor Go. */
function pathWithoutActOrGo(): string {
  const dirs = [dirname(process.execPath), ...(pnpm ? [dirname(pnpm)] : []), '/usr/bin', '/bin'];
  const path = [...new Set(dirs)].join(delimiter);
  // The test proves nothing if act or go were still reachable.
  expect(findOnPath('act', path), `act is installed in a system directory (${path})`).toBeUndefined();
  expect(findOnPath('go', path), `go is installed in a system directory (${path})`).toBeUndefined();
  return path;
}

/** Runs `pnpm act` as a user would, returning its exit code and the lines it printed on stderr. */
function pnpmAct(env: NodeJS.ProcessEnv): { status: number | null; lines: string[] } {
  const result = spawnSync(pnpm ?? 'pnpm', ['act'], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, lines: `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.trim() !== '') };
}

/** Our lines; pnpm frames every failing script with its own `> org-actions@ act` header and `ELIFECYCLE` line. */
function ownLines(lines: string[]): string[] {
  return lines.filter((line) => !/^> |ELIFECYCLE/.test(line.trim()));
}

let emptyToolCache: string;
beforeAll(() => {
  emptyToolCache = mkdtempSync(join(tmpdir(), 'act-prereq-'));
});
afterAll(() => rmSync(emptyToolCache, { recursive: true, force: true }));

describe.skipIf(pnpm === undefined)('pnpm act without its prerequisites', () => {
  test.each([
    {
      name: 'ACT_BINARY pointing nowhere',
      env: () => ({ ACT_BINARY: join(emptyToolCache, 'no-such-act') }),
      message: /^pnpm act: ACT_BINARY=\S+no-such-act is not a working act executable: install act v0\.2\.87 \(.*\) and point ACT_BINARY at it, or unset ACT_BINARY$/,
    },
    {
      name: 'no act anywhere and no Go to build it',
      env: () => ({}),
      message: /^pnpm act: act is not installed: install act v0\.2\.87 \(https:\/\/nektosact\.com\/installation\/, or `go install github\.com\/nektos\/act@v0\.2\.87`\), or install Go >= 1\.21/,
    },
  ])('$name: one line saying what to install, non-zero exit', ({ env, message }) => {
    const { ACT_BINARY: _unset, ...inherited } = process.env;
    const result = pnpmAct({ ...inherited, PATH: pathWithoutActOrGo(), ORG_ACTIONS_TOOL_CACHE: emptyToolCache, ...env() });
    expect(result.status).not.toBe(0);
    expect(result.status).not.toBeNull();
    const lines = ownLines(result.lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(result.lines.some((line) => /^\s+at /.test(line))).toBe(false);
  });

  test('a Docker engine that does not answer: one line naming DOCKER_HOST', async () => {
    // A real act is needed to get past the first check; locateAct finds it or builds it with Go.
    const act = await locateAct(process.env, () => {});
    const result = pnpmAct({ ...process.env, ACT_BINARY: act.path, DOCKER_HOST: `unix://${join(emptyToolCache, 'no-docker.sock')}` });
    expect(result.status).toBe(1);
    expect(ownLines(result.lines)).toEqual([
      `pnpm act: Docker does not answer at unix://${join(emptyToolCache, 'no-docker.sock')}: start the engine (\`pnpm services:up\` starts the harness one) or set DOCKER_HOST`,
    ]);
  });
});
