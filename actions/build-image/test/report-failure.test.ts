import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { parseDockerfile, parseRawJson } from '@org/image-build';
import type { BakeMetadata } from '@org/image-build';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { BakeResult } from '../src/build.js';
import type { Inputs } from '../src/context.js';
import type { BuildPlan } from '../src/plan.js';
import { makeReport, publishReport, reportBuildFailure } from '../src/report.js';

vi.mock('@actions/core', async (importOriginal) => ({ ...(await importOriginal<typeof import('@actions/core')>()), info: vi.fn(), setOutput: vi.fn() }));

// Recorded bakes of two flavours sharing `RUN --mount=type=secret,id=token ...` (see
// packages/image-build/test/report-cancelled-duplicates.test.ts): BuildKit runs the step once and
// cancels the other target's duplicate vertex.
const dir = path.join(import.meta.dirname, '../../../packages/image-build/test/fixtures/rawjson/secret-shared');
const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
const flavours = [
  { name: 'devstack', stage: 'dev', image: 'reg.local/app-dev' },
  { name: 'production', stage: 'production', image: 'reg.local/app' },
];
const planFor = (dockerfile: string) => ({ flavours, model: parseDockerfile(read(dockerfile)), tags: [], push: false }) as unknown as BuildPlan;
const inputs = { context: '.', buildArgs: {} } as unknown as Inputs;
const resultOf = (name: string, exitCode: number, metadata: BakeMetadata = {}): BakeResult => {
  const parsed = parseRawJson(read(`${name}.rawjson`));
  return { statuses: parsed.statuses, messages: parsed.text, metadata, exitCode, attempts: 1 };
};
const logged = () => vi.mocked(core.info).mock.calls.map(([line]) => line).join('\n');

beforeEach(() => {
  vi.mocked(core.info).mockClear();
  vi.mocked(core.setOutput).mockClear();
  delete process.env.GITHUB_STEP_SUMMARY;
});

describe('the build report of a bake whose shared secret step had a cancelled duplicate', () => {
  test('a successful bake: both digests in the summary, no "failed", no error in the outputs', async () => {
    const metadata = JSON.parse(read('succeeded.metadata.json')) as BakeMetadata;
    const result = resultOf('succeeded', 0, metadata);
    const plan = planFor('Dockerfile');
    const report = makeReport(plan, inputs, result, undefined);
    await publishReport(plan, inputs, result, report, {});
    const summary = logged();
    expect(summary).toMatch(/\| devstack \| 4 \| .* \| `sha256:[0-9a-f]{12}` \|/);
    expect(summary).toMatch(/\| production \| 4 \| .* \| `sha256:[0-9a-f]{12}` \|/);
    expect(summary).not.toMatch(/failed|canceled/i);
    const metadataOutput = vi.mocked(core.setOutput).mock.calls.find(([name]) => name === 'metadata')?.[1] as string;
    const saved = JSON.parse(metadataOutput);
    for (const f of ['devstack', 'production']) {
      expect(saved.flavours[f].error).toBeUndefined();
      expect(saved.flavours[f].stepStatus.some((s: { status: string }) => s.status === 'error')).toBe(false);
    }
  });

  test("a failed bake blames production's `exit 7`, as buildx does, not devstack's cancelled duplicate", async () => {
    const error = await reportBuildFailure(planFor('Dockerfile.failing'), inputs, resultOf('failed', 1), undefined);
    expect(error.message).toBe(
      'The build of production failed at `production 1/1 RUN sleep 1; echo really broken >&2; exit 7`: process "/bin/sh -c sleep 1; echo really broken >&2; exit 7" did not complete successfully: exit code: 7',
    );
    expect(logged()).toMatch(/\| devstack \| .* \|  \|\n\| production \| .* \| failed: process /);
  });
});
