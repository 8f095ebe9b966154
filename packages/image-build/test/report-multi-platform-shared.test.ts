import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildReport, parseDockerfile, parseRawJson, stepLabel } from '../src/index.js';
import type { ReportOptions } from '../src/index.js';

// Recorded with docker 26.1 + buildx 0.13.1 from fixtures/rawjson/multi-platform-shared (bake.json
// there, run in that directory): platforms linux/amd64,linux/amd64/v2; dev and production both start
// with `COPY src/ ./src/` on base. cold = a fresh ctx/req.txt, code = then ctx/src/a changed.
// BuildKit runs the COPY once per platform under production's name, reported by both targets, and
// reports devstack's own `[devstack <platform> dev 1/2]` vertex as CACHED beside it: one piece of work.
const dir = path.join(import.meta.dirname, 'fixtures/rawjson/multi-platform-shared');
const model = parseDockerfile(readFileSync(path.join(dir, 'Dockerfile'), 'utf8'));
const flavours = [{ name: 'devstack', stage: 'dev' }, { name: 'production', stage: 'production' }];
const recorded = (name: string, options: Partial<ReportOptions> = {}) => {
  const parsed = parseRawJson(readFileSync(path.join(dir, `${name}.rawjson`), 'utf8'));
  return { parsed, report: buildReport(parsed.statuses, { flavours, model, messages: parsed.text, ...options }) };
};

describe('several platforms, a step two flavours share', () => {
  test('the recording holds the twin: devstack CACHED under dev 1/2, the run under production 1/1', () => {
    const names = recorded('code').parsed.statuses.flatMap((s) => s.vertexes ?? []).filter((v) => v.cached).map((v) => v.name);
    expect(names).toContain('[devstack linux/amd64 dev 1/2] COPY src/ ./src/');
  });

  test.each([
    // name, devstack [total, cached, run], production [...], stepCount, cached
    // WORKDIR was in the engine's cache from earlier builds of the same base image.
    ['cold', [10, 2, 8], [8, 2, 6], 10, 2],
    ['code', [10, 6, 4], [8, 6, 2], 10, 6],
  ] as const)('%s: each step counted once per platform', (name, dev, prod, count, cached) => {
    const { report } = recorded(name, { changedFiles: ['src/a'] });
    const [devstack, production] = report.flavours;
    expect(Object.values(devstack!.steps)).toEqual(dev);
    expect(Object.values(production!.steps)).toEqual(prod);
    expect(report.stepCount).toBe(count);
    expect(report.cacheHitRatio).toBeCloseTo(cached / count, 5);
  });

  test("devstack's COPY ran (merged with production's run), listed once per platform in its Dockerfile order", () => {
    const { report } = recorded('code', { changedFiles: ['src/a'] });
    const devstack = report.flavours[0]!;
    expect(devstack.stepDetails.map((s) => `${s.status} ${stepLabel(s)}`)).toEqual([
      'cached linux/amd64 base 2/4 WORKDIR /app',
      'cached linux/amd64/v2 base 2/4 WORKDIR /app',
      'cached linux/amd64 base 3/4 COPY req.txt ./',
      'cached linux/amd64/v2 base 3/4 COPY req.txt ./',
      'cached linux/amd64 base 4/4 RUN cat req.txt > deps',
      'cached linux/amd64/v2 base 4/4 RUN cat req.txt > deps',
      'run linux/amd64 dev 1/2 COPY src/ ./src/',
      'run linux/amd64/v2 dev 1/2 COPY src/ ./src/',
      'run linux/amd64 dev 2/2 RUN echo dev',
      'run linux/amd64/v2 dev 2/2 RUN echo dev',
    ]);
    // The first miss is the same work for both flavours: the COPY on the platform that started it first.
    const production = report.flavours[1]!;
    expect(devstack.firstMiss?.step).toMatchObject({ platform: production.firstMiss?.step.platform, stage: 'dev', index: 1, instruction: 'COPY src/ ./src/', status: 'run' });
    expect(production.firstMiss?.step).toMatchObject({ stage: 'production', index: 1, instruction: 'COPY src/ ./src/', status: 'run' });
    expect(devstack.firstMiss?.cause).toEqual({ kind: 'context-files', files: ['src/a'] });
    expect(production.firstMiss?.cause).toEqual({ kind: 'context-files', files: ['src/a'] });
    // The solve's own list keeps every step as BuildKit named it (the build record reads it).
    expect(report.steps.filter((s) => s.instruction === 'COPY src/ ./src/').map(stepLabel).sort()).toEqual([
      'linux/amd64 dev 1/2 COPY src/ ./src/',
      'linux/amd64 production 1/1 COPY src/ ./src/',
      'linux/amd64/v2 dev 1/2 COPY src/ ./src/',
      'linux/amd64/v2 production 1/1 COPY src/ ./src/',
    ]);
  });
});
