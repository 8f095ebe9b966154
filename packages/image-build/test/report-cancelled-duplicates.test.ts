import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildOutputs, buildReport, parseDockerfile, parseRawJson, reportMarkdown, stepLabel } from '../src/index.js';
import type { BakeMetadata, ReportOptions, SolveStatus } from '../src/index.js';
import { findFailure, isCancellation, solveErrors } from '../src/internal/build-failure.js';

// Recorded with docker 26.1 + buildx 0.13.1 from fixtures/rawjson/secret-shared (bake.json there, run
// in that directory with a `token` file beside it and a fresh ctx/req.txt, so the secret step runs):
// devstack=dev and production=production share `base 4/4 RUN --mount=type=secret,id=token ...`.
// BuildKit runs it once and cancels the other target's duplicate vertex
// (`failed to calculate checksum of ref ...: context canceled`), in every such build.
// succeeded = Dockerfile (exit 0); failed = Dockerfile.failing, production's RUN exits 7 (exit 1).
const dir = path.join(import.meta.dirname, 'fixtures/rawjson/secret-shared');
const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
const flavours = [{ name: 'devstack', stage: 'dev' }, { name: 'production', stage: 'production' }];
const recorded = (name: 'succeeded' | 'failed', options: Partial<ReportOptions> = {}) => {
  const parsed = parseRawJson(read(`${name}.rawjson`));
  const model = parseDockerfile(read(name === 'failed' ? 'Dockerfile.failing' : 'Dockerfile'));
  return { parsed, report: buildReport(parsed.statuses, { flavours, model, messages: parsed.text, ...options }) };
};
const SECRET_STEP = /^base 4\/4 RUN --mount=type=secret,id=token /;

describe('a step two targets share, its duplicate vertex cancelled', () => {
  test('the recording holds the cancelled duplicate next to the vertex that ran', () => {
    const { parsed } = recorded('succeeded');
    const errors = parsed.statuses.flatMap((s) => s.vertexes ?? []).filter((v) => v.error).map((v) => v.error as string);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => /^failed to calculate checksum of ref .*: context canceled$/.test(e))).toBe(true);
  });

  test.each([
    ['with the exit code', { succeeded: true }],
    ['without it (the cancellation alone tells)', {}],
  ])('a successful bake: no step and no flavour failed, %s', (_, options) => {
    const { report } = recorded('succeeded', options);
    expect(report.failure).toBeUndefined();
    for (const f of report.flavours) {
      expect(f.error, f.flavour).toBeUndefined();
      const secret = f.stepDetails.find((s) => SECRET_STEP.test(stepLabel(s)));
      expect(secret, f.flavour).toMatchObject({ status: 'run' });
      expect(secret?.error).toBeUndefined();
      expect(f.stepDetails.every((s) => s.status !== 'error')).toBe(true);
    }
    expect(report.steps.every((s) => s.status !== 'error')).toBe(true);
  });

  test('the summary shows both digests, never "failed"; the metadata output has no error', () => {
    const { report } = recorded('succeeded', { succeeded: true });
    const metadata = JSON.parse(read('succeeded.metadata.json')) as BakeMetadata;
    const md = reportMarkdown(report, metadata);
    expect(md).not.toMatch(/failed|canceled/);
    for (const f of ['devstack', 'production']) {
      expect(md).toContain(`\`${metadata[f]?.['containerimage.digest']?.slice(0, 19)}\` |`);
    }
    const outputs = buildOutputs({ flavours: flavours.map((f) => ({ ...f, image: `reg.local/${f.name}` })), tags: [], pushed: false, report, metadata });
    const saved = JSON.parse(outputs.metadata as string);
    for (const f of ['devstack', 'production']) {
      expect(saved.flavours[f].error).toBeUndefined();
      expect(saved.flavours[f].stepStatus.map((s: { status: string }) => s.status)).not.toContain('error');
    }
  });

  test("a failed bake is production's `exit 7`, not devstack's cancelled duplicate", () => {
    const { report } = recorded('failed', { succeeded: false });
    expect(report.failure?.flavour).toBe('production');
    expect(report.failure?.step && stepLabel(report.failure.step)).toBe('production 1/1 RUN sleep 1; echo really broken >&2; exit 7');
    expect(report.failure?.error).toBe('process "/bin/sh -c sleep 1; echo really broken >&2; exit 7" did not complete successfully: exit code: 7');
    const [devstack, production] = report.flavours;
    expect(devstack?.error).toBeUndefined();
    expect(devstack?.stepDetails.find((s) => SECRET_STEP.test(stepLabel(s)))?.status).toBe('run');
    expect(production?.error).toMatch(/exit code: 7$/);
    const md = reportMarkdown(report);
    expect(md).toMatch(/\| devstack \| .* \|  \|\n/);
    expect(md).toMatch(/\| production \| .* \| failed: process .*exit 7/);
  });

  test('buildx 0.17+ names the target: that flavour is the failed one', () => {
    const { parsed } = recorded('failed');
    const messages = parsed.text.map((l) => l.replace(/^ERROR: failed to solve: /, 'ERROR: target production: failed to solve: '));
    const report = buildReport(parsed.statuses, { flavours, model: parseDockerfile(read('Dockerfile.failing')), messages });
    expect(report.failure).toMatchObject({ flavour: 'production', step: { stage: 'production', index: 1 }, error: expect.stringMatching(/exit code: 7$/) });
  });
});

describe('pieces', () => {
  test.each([
    ['failed to calculate checksum of ref a::b: context canceled: context canceled', true],
    ['rpc error: code = Canceled desc = context canceled', true],
    ['process "/bin/sh -c exit 7" did not complete successfully: exit code: 7', false],
    ['context canceled while exporting: exit code: 1', false],
  ])('isCancellation(%j)', (error, expected) => {
    expect(isCancellation(error)).toBe(expected);
  });

  test('solveErrors reads both buildx wordings and skips everything else', () => {
    expect(
      solveErrors(['WARNING: local cache import at /x not found', 'ERROR: failed to solve: process "x" failed', 'ERROR: target production: failed to solve: exit code: 7', 'Dockerfile:3']),
    ).toEqual([{ error: 'process "x" failed' }, { target: 'production', error: 'exit code: 7' }]);
  });

  test('without an ERROR line a real error wins over a cancellation, whatever started first', () => {
    const at = (s: number) => `2024-01-01T00:00:0${s}Z`;
    const statuses: SolveStatus[] = [
      { vertexes: [{ digest: 'c', name: '[devstack dev 1/1] RUN long', started: at(1), completed: at(3), error: 'context canceled' }] },
      { vertexes: [{ digest: 'f', name: '[production production 1/1] RUN false', started: at(2), completed: at(3), error: 'exit code: 1' }] },
    ];
    const model = parseDockerfile('FROM busybox AS base\nFROM base AS dev\nRUN long\nFROM base AS production\nRUN false\n');
    const report = buildReport(statuses, { flavours, model });
    expect(report.failure).toMatchObject({ flavour: 'production', error: 'exit code: 1' });
    // devstack was cut short, not broken: the summary says so.
    expect(report.flavours[0]?.error).toBe('context canceled');
    expect(reportMarkdown(report)).toMatch(/\| devstack \| .* \| canceled \|\n/);
    expect(findFailure([], [], [])).toBeUndefined();
  });
});
