import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { getInputs, type RunContext } from '../src/context.js';
import { LintFailedError } from '../src/errors.js';
import { lintStep } from '../src/lint.js';
import { planBuild } from '../src/plan.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';
let stdout: ReturnType<typeof vi.spyOn>;
beforeAll(() => {
  // lintStep annotates through @actions/core, which writes workflow commands to stdout.
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterAll(() => stdout.mockRestore());

/** A context whose Dockerfile has exactly one finding: a base image without a tag. */
async function oneFinding(): Promise<RunContext> {
  const dir = await temp.make('bi-lint-');
  await mkdir(path.join(dir, 'svc'));
  await writeFile(path.join(dir, 'svc/Dockerfile'), 'FROM busybox AS dev\nFROM busybox:1.36 AS production\n');
  await writeFile(path.join(dir, 'svc/.dockerignore'), '.git\n');
  const git = { eventName: 'push', ref: 'refs/heads/master', sha: 'a'.repeat(40), defaultBranch: 'master', commitTime: '2024-05-01T12:00:00Z', repoUrl: '' };
  return { git, workspace: dir, runnerTemp: path.join(dir, 'tmp') };
}

test.each<[string, string, number | RegExp]>([
  ['`lint: error` fails on a single finding', 'error', /^The Dockerfile cache lint found 1 problem in /],
  ['`lint: warn` reports it and goes on', 'warn', 1],
  ['`lint: off` does not look', 'off', 0],
])('%s', async (_, lint, expected) => {
  const run = await oneFinding();
  const inputs = getInputs(read({ context: 'svc', image: 'reg.local/app', lint }));
  const plan = await planBuild(inputs, run, {});
  if (expected instanceof RegExp) {
    await expect(lintStep(plan, inputs)).rejects.toThrow(LintFailedError);
    await expect(lintStep(plan, inputs)).rejects.toThrow(expected);
  } else {
    const findings = await lintStep(plan, inputs);
    expect(findings.map((finding) => finding.rule)).toEqual(expected === 1 ? ['unpinned-base-image'] : []);
  }
});
