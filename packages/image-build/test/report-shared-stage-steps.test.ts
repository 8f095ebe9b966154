import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildRecordOf, buildReport, describeCause, parseDockerfile, parseRawJson, previousFromRecord, stepLabel } from '../src/index.js';
import type { ReportOptions } from '../src/index.js';

// Recorded with docker 26.1 + buildx 0.13.1 (docker driver, containerd store), targets devstack=dev,
// production=production, each on a fresh `RUN echo "build <nonce>"` so nothing before was cached.
// shared-copy/cold: dev and production both start with `COPY src/ ./src/` on base: BuildKit runs one
// and reports the other target's own COPY as CACHED (matched by its cache key in the same solve).
// shared-named: dev and production both start with the same RUN; BuildKit runs it once and names it
// after dev in both targets' streams (`[production dev 1/2]`); edited = that RUN changed in both.
const dir = path.join(import.meta.dirname, 'fixtures/rawjson');
const flavours = [
  { name: 'devstack', stage: 'dev' },
  { name: 'production', stage: 'production' },
];
const report = (fixture: string, rawjson: string, dockerfile = 'Dockerfile', options: Partial<ReportOptions> = {}) => {
  const parsed = parseRawJson(readFileSync(path.join(dir, fixture, `${rawjson}.rawjson`), 'utf8'));
  const model = parseDockerfile(readFileSync(path.join(dir, fixture, dockerfile), 'utf8'));
  return buildReport(parsed.statuses, { flavours, model, messages: parsed.text, succeeded: true, ...options });
};

describe('steps the two flavours share', () => {
  test('a cold build whose second COPY BuildKit reports CACHED: no cache to use, for both flavours', () => {
    const r = report('shared-copy', 'cold');
    expect(r.cacheHitRatio).toBe(0);
    for (const f of r.flavours) {
      expect(f.steps, f.flavour).toEqual({ total: 4, cached: 0, run: 4 });
      expect(describeCause(f.firstMiss!.cause), f.flavour).toBe('unknown: no step of the build was cached and no cache was imported: there was no cache to use yet');
    }
    // With a record of the same Dockerfile (the cache is gone): still no claim that earlier steps were cached.
    const previous = previousFromRecord(buildRecordOf(r, { devstack: {}, production: {} }, parseDockerfile(readFileSync(path.join(dir, 'shared-copy/Dockerfile'), 'utf8'))));
    for (const f of report('shared-copy', 'cold', 'Dockerfile', { previous }).flavours) expect(describeCause(f.firstMiss!.cause), f.flavour).toMatch(/^unknown: no step of the build was cached/);
  });

  test('a shared step BuildKit names after the other stage is each flavour\'s own step', () => {
    const previous = previousFromRecord(buildRecordOf(report('shared-named', 'cold'), { devstack: {}, production: {} }, parseDockerfile(readFileSync(path.join(dir, 'shared-named/Dockerfile'), 'utf8'))));
    const r = report('shared-named', 'edited', 'Dockerfile.edited', { previous });
    const [devstack, production] = r.flavours;
    expect(stepLabel(devstack!.firstMiss!.step)).toBe('dev 1/2 RUN echo "shared v2" > /app/shared');
    expect(stepLabel(production!.firstMiss!.step)).toBe('production 1/2 RUN echo "shared v2" > /app/shared');
    expect(production!.stepDetails.map((s) => `${s.stage} ${s.index}/${s.total}`)).toEqual(['base 2/3', 'base 3/3', 'production 1/2', 'production 2/2']);
    for (const f of r.flavours) expect(f.firstMiss?.cause, f.flavour).toEqual({ kind: 'instruction' });
    // Counted once in the ratio: base 2/3 and 3/3 cached of five distinct steps.
    expect(r.cacheHitRatio).toBeCloseTo(2 / 5, 5);
  });
});
