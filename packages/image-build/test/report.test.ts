import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { buildOutputs, buildReport, computeTags, parseDockerfile, parseRawJson, RawJsonReader, reportMarkdown, resolveFlavours } from '../src/index.js';
import type { BakeMetadata, ReportOptions, SolveStatus } from '../src/index.js';
import { parseStepName } from '../src/internal/report.js';

// Recorded with docker 26.1 + buildx 0.13.1 (`docker buildx bake --progress=rawjson`, two targets
// of fixtures/rawjson/Dockerfile): cold, warm, code = src/app.py changed, arg = DEV_TOOLS 1 -> 2,
// base = the base image re-imported with new content, failed = a RUN exiting 1, cache-import =
// after `docker builder prune -af`, all from a local cache export.
const dir = path.join(import.meta.dirname, 'fixtures/rawjson');
const stream = (name: string) => readFileSync(path.join(dir, `${name}.rawjson`), 'utf8');
const metadata = (name: string) => JSON.parse(readFileSync(path.join(dir, `${name}.metadata.json`), 'utf8')) as BakeMetadata;
const model = parseDockerfile(readFileSync(path.join(dir, 'Dockerfile'), 'utf8'));
const flavours = [{ name: 'devstack', stage: 'dev' }, { name: 'production', stage: 'production' }];
const report = (name: string, options: Partial<ReportOptions> = {}) => {
  const parsed = parseRawJson(stream(name));
  return buildReport(parsed.statuses, { flavours, model, messages: parsed.text, ...options });
};
const coldImages = report('cold').baseImages;
const sameArgs = { buildArgs: { devstack: { DEV_TOOLS: '1' } }, previous: { baseImages: coldImages, buildArgs: { devstack: { DEV_TOOLS: '1' } } } };

describe('buildReport on recorded streams', () => {
  test.each([
    // name, options, devstack [total, cached, run], production [...], first miss devstack, cause kind, ratio
    ['cold', {}, [6, 0, 6], [5, 0, 5], 'WORKDIR /app', 'unknown', 0],
    ['warm', sameArgs, [6, 6, 0], [5, 5, 0], undefined, undefined, 1],
    ['code', { ...sameArgs, changedFiles: ['src/app.py'] }, [6, 3, 3], [5, 3, 2], 'COPY src/ ./src/', 'context-files', 0.5],
    ['arg', { ...sameArgs, buildArgs: { devstack: { DEV_TOOLS: '2' } } }, [6, 5, 1], [5, 5, 0], expect.stringMatching(/^RUN .*DEV_TOOLS/), 'build-arg', 5 / 6],
    ['base', sameArgs, [6, 0, 6], [5, 0, 5], 'WORKDIR /app', 'base-image', 0],
    ['cache-import', sameArgs, [6, 6, 0], [5, 5, 0], undefined, undefined, 1],
  ] as const)('%s', (name, options, dev, prod, miss, cause, ratio) => {
    const r = report(name, options as Partial<ReportOptions>);
    const [devstack, production] = r.flavours;
    expect(Object.values(devstack!.steps)).toEqual(dev);
    expect(Object.values(production!.steps)).toEqual(prod);
    expect(devstack!.firstMiss?.step.instruction).toEqual(miss);
    expect(devstack!.firstMiss?.cause.kind).toBe(cause);
    expect(r.cacheHitRatio).toBeCloseTo(ratio, 5);
  });

  test('the code change names the changed file and the same first miss for both flavours', () => {
    const r = report('code', { ...sameArgs, changedFiles: ['src/app.py', 'README.md'] });
    for (const f of r.flavours) {
      expect(f.firstMiss?.step).toMatchObject({ stage: 'production', index: 1, total: 2, status: 'run' });
      expect(f.firstMiss?.cause).toEqual({ kind: 'context-files', files: ['src/app.py'] });
    }
  });

  test('without a matching changed file the COPY miss is unexplained, not misattributed', () => {
    expect(report('code', { ...sameArgs, changedFiles: ['docs/x.md'] }).flavours[0]?.firstMiss?.cause.kind).toBe('unknown');
  });

  test('the moved base image is named with both digests', () => {
    const cause = report('base', sameArgs).flavours[0]?.firstMiss?.cause;
    expect(cause).toEqual({
      kind: 'base-image',
      image: 'docker.io/local/busybox:rec',
      previous: coldImages['docker.io/local/busybox:rec'],
      current: report('base').baseImages['docker.io/local/busybox:rec'],
    });
    expect(coldImages['docker.io/local/busybox:rec']).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test('the changed arg is blamed only for the flavour that passes it', () => {
    const r = report('arg', { ...sameArgs, buildArgs: { devstack: { DEV_TOOLS: '2' } } });
    expect(r.flavours[0]?.firstMiss?.cause).toEqual({ kind: 'build-arg', names: ['DEV_TOOLS'] });
    expect(r.flavours[1]?.firstMiss).toBeUndefined();
  });

  test('a failed step is the error of its flavour; the other flavour is unaffected', () => {
    const r = report('failed', { buildArgs: { devstack: { DEV_TOOLS: 'fail' } }, previous: { buildArgs: { devstack: { DEV_TOOLS: '2' } } } });
    expect(r.flavours[0]?.error).toMatch(/did not complete successfully: exit code: 1/);
    expect(r.flavours[0]?.firstMiss?.step.status).toBe('error');
    expect(r.flavours[1]?.error).toBeUndefined();
    expect(r.messages.some((m) => m.startsWith('ERROR: failed to solve'))).toBe(true);
  });

  test('cache import and export show up as phases; buildx warnings as messages', () => {
    const r = report('cache-import', sameArgs);
    expect(r.flavours[0]?.phases.map((p) => p.name)).toEqual(
      expect.arrayContaining(['exporting to image', expect.stringMatching(/^importing cache manifest from local/), 'exporting cache to client directory']),
    );
  });

  test('without the Dockerfile, steps are attributed by the flavour prefix BuildKit kept', () => {
    const parsed = parseRawJson(stream('code'));
    const r = buildReport(parsed.statuses, { flavours, changedFiles: ['src/app.py'] });
    const total = r.flavours.reduce((n, f) => n + f.steps.total, 0);
    expect(total).toBeGreaterThanOrEqual(6);
    expect(r.flavours.some((f) => f.firstMiss?.cause.kind === 'context-files')).toBe(true);
  });
});

test.each([
  ['[devstack base 3/4] COPY requirements.txt ./', { flavour: 'devstack', stage: 'base', index: 3, total: 4, instruction: 'COPY requirements.txt ./' }],
  ['[base 2/4] WORKDIR /app', { flavour: undefined, stage: 'base', index: 2, total: 4, instruction: 'WORKDIR /app' }],
  ['[devstack 1/2] RUN x', { flavour: 'devstack', stage: undefined, index: 1, total: 2, instruction: 'RUN x' }],
  ['[stage-0 2/2] RUN y', { flavour: undefined, stage: 'stage-0', index: 2, total: 2, instruction: 'RUN y' }],
  ['[devstack internal] load build context', undefined],
  ['[production] exporting to image', undefined],
])('parseStepName(%j)', (name, expected) => {
  expect(parseStepName(name, new Set(['devstack', 'production']))).toEqual(expected);
});

describe('RawJsonReader', () => {
  test('any chunking of a recorded stream gives the same statuses and text', () => {
    const text = stream('cache-import');
    const whole = parseRawJson(text);
    expect(whole.statuses.length).toBeGreaterThan(50);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 40 }), (cuts) => {
        const statuses: SolveStatus[] = [];
        const lines: string[] = [];
        const reader = new RawJsonReader((s) => statuses.push(s), (l) => lines.push(l));
        let last = 0;
        for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
          reader.push(text.slice(last, cut));
          last = cut;
        }
        reader.push(text.slice(last));
        reader.end();
        expect(statuses).toEqual(whole.statuses);
        expect(lines).toEqual(whole.text);
      }),
      { numRuns: 50 },
    );
  });

  test('plain lines between objects are kept; braces inside strings do not confuse it', () => {
    const parsed = parseRawJson('WARNING: local cache import at /x not found\n{\n "logs": [{"vertex": "v", "data": "e30="}],\n "statuses": [{"id": "a}{\\"b", "vertex": "v"}]\n}\n{"vertexes":[]}');
    expect(parsed.text).toEqual(['WARNING: local cache import at /x not found']);
    expect(parsed.statuses).toHaveLength(2);
    expect(parsed.statuses[0]?.statuses?.[0]?.id).toBe('a}{"b');
  });

  test('a stream cut inside an object is reported, not silently truncated', () => {
    expect(() => parseRawJson('{"vertexes": [{"digest": "x"')).toThrow(/ended inside a status object/);
  });
});

describe('summary and outputs', () => {
  const git = { eventName: 'push', ref: 'refs/heads/master', sha: 'c'.repeat(40), defaultBranch: 'master', commitTime: '2024-01-01T00:00:00Z', repoUrl: 'https://x/y' };
  const resolved = resolveFlavours({ targets: 'devstack=dev,production=production', image: 'reg.local/app' });
  const r = report('code', { ...sameArgs, changedFiles: ['src/app.py'] });

  test('markdown: one row per flavour with the first miss, its cause, sizes when measured', () => {
    const md = reportMarkdown(r, metadata('code'), { devstack: { imageBytes: 3 * 1024 * 1024, pushedBytes: 1536, pushedLayers: 2 } });
    expect(md).toContain('| Flavour | Steps | Cached | Run | First cache miss | Cause | Duration | Size | Pushed | Digest |');
    expect(md).toMatch(/\| devstack \| 6 \| 3 \| 3 \| `production 1\/2 COPY src\/ \.\/src\/` \| changed file: src\/app\.py \| [\d.]+ s \| 3\.0 MiB \| 1\.5 KiB \(2 layers\) \| `sha256:b538d138118c` \|/);
    expect(md).toMatch(/\| production \| 5 \| 3 \| 2 \| .* \| - \| - \| `sha256:/);
    expect(md).toContain('Cache hit ratio: **50%** over 6 distinct steps');
  });

  test('outputs: digest per flavour, tags, per-flavour metadata for the next run, ratio', () => {
    const outputs = buildOutputs({
      flavours: resolved,
      tags: computeTags(git),
      pushed: true,
      report: r,
      metadata: metadata('code'),
      buildArgs: { devstack: { DEV_TOOLS: '1' } },
      sizes: { production: { imageBytes: 100, pushedBytes: 10, pushedLayers: 1 } },
    });
    expect(outputs['digest-devstack']).toBe(metadata('code').devstack?.['containerimage.digest']);
    expect(outputs['digest-production']).toMatch(/^sha256:/);
    expect(outputs.tags?.split('\n')).toEqual([
      'reg.local/app-dev:sha-ccccccc', 'reg.local/app-dev:master', 'reg.local/app-dev:latest',
      'reg.local/app:sha-ccccccc', 'reg.local/app:master', 'reg.local/app:latest',
    ]);
    expect(outputs['cache-hit-ratio']).toBe('0.50');
    const saved = JSON.parse(outputs.metadata as string);
    expect(saved.baseImages).toEqual(r.baseImages);
    expect(saved.buildArgs).toEqual({ devstack: { DEV_TOOLS: '1' } });
    expect(saved.flavours.production).toMatchObject({
      image: 'reg.local/app',
      tags: ['reg.local/app:sha-ccccccc', 'reg.local/app:master', 'reg.local/app:latest'],
      digest: outputs['digest-production'],
      steps: { total: 5, cached: 3, run: 2 },
      firstMiss: { step: 'production 1/2 COPY src/ ./src/', cause: { kind: 'context-files', files: ['src/app.py'] }, reason: 'changed file: src/app.py' },
      imageBytes: 100,
      pushedBytes: 10,
    });
    expect(saved.flavours.production.stepStatus.map((s: { status: string }) => s.status)).toEqual(['cached', 'cached', 'cached', 'run', 'run']);
  });
});

test('a one-stage Dockerfile built as one bake target: steps have no stage or flavour prefix, and still count', () => {
  const oneStage = parseDockerfile('ARG BASE\nFROM ${BASE} AS production\nRUN exit 3\n');
  const statuses: SolveStatus[] = [
    { vertexes: [{ digest: 'a', name: `[1/2] FROM docker.io/local/busybox@sha256:${'a'.repeat(64)}`, started: '2024-01-01T00:00:00Z', completed: '2024-01-01T00:00:00.1Z' }] },
    { vertexes: [{ digest: 'b', name: '[2/2] RUN exit 3', started: '2024-01-01T00:00:01Z', completed: '2024-01-01T00:00:02Z', error: 'process "/bin/sh -c exit 3" did not complete successfully: exit code: 3' }] },
  ];
  const r = buildReport(statuses, { flavours: [{ name: 'production', stage: 'production' }], model: oneStage });
  expect(r.flavours[0]).toMatchObject({ steps: { total: 1, cached: 0, run: 1 }, error: expect.stringContaining('exit code: 3') });
  expect(r.flavours[0]?.firstMiss?.step).toMatchObject({ stage: 'production', index: 2, total: 2, status: 'error' });
});
