import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  buildArgFingerprints,
  buildOutputs,
  buildRecordOf,
  buildReport,
  computeTags,
  describeCause,
  instructionFingerprint,
  parseDockerfile,
  parseRawJson,
  previousFromRecord,
  RawJsonReader,
  reportMarkdown,
  resolveFlavours,
  stepLabel,
} from '../src/index.js';
import type { BakeMetadata, ReportOptions, SolveStatus } from '../src/index.js';
import { parseStepName, phaseOf } from '../src/internal/report.js';

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
  // Recorded (fixtures/rawjson/shared): several platforms, and a step two targets share named after one stage.
  ['[production linux/arm64 base 4/4] RUN x', { flavour: 'production', platform: 'linux/arm64', stage: 'base', index: 4, total: 4, instruction: 'RUN x' }],
  ['[devstack linux/amd64/v2 dev 1/2] RUN y', { flavour: 'devstack', platform: 'linux/amd64/v2', stage: 'dev', index: 1, total: 2, instruction: 'RUN y' }],
  ['[devstack production 1/1] RUN z', { flavour: 'devstack', stage: 'production', index: 1, total: 1, instruction: 'RUN z' }],
  ['[linux/arm64 base 2/4] WORKDIR /app', { flavour: undefined, platform: 'linux/arm64', stage: 'base', index: 2, total: 4, instruction: 'WORKDIR /app' }],
  ['[production linux/amd64->arm64 build 2/3] RUN go build', { flavour: 'production', platform: 'linux/amd64->arm64', stage: 'build', index: 2, total: 3, instruction: 'RUN go build' }],
  ['[devstack linux/arm64 1/2] RUN x', { flavour: 'devstack', platform: 'linux/arm64', stage: undefined, index: 1, total: 2, instruction: 'RUN x' }],
  ['[base  3/12] RUN padded', { flavour: undefined, stage: 'base', index: 3, total: 12, instruction: 'RUN padded' }],
  ['[base 2/4] WORKDIR /app', { flavour: undefined, stage: 'base', index: 2, total: 4, instruction: 'WORKDIR /app' }],
  ['[devstack 1/2] RUN x', { flavour: 'devstack', stage: undefined, index: 1, total: 2, instruction: 'RUN x' }],
  ['[stage-0 2/2] RUN y', { flavour: undefined, stage: 'stage-0', index: 2, total: 2, instruction: 'RUN y' }],
  ['[devstack internal] load build context', undefined],
  ['[production] exporting to image', undefined],
])('parseStepName(%j)', (name, expected) => {
  expect(parseStepName(name, new Set(['devstack', 'production']))).toEqual(expected);
});

test.each<[string, string[], { flavour: string; name: string } | undefined]>([
  ['[devstack] importing cache manifest from local:1', ['devstack', 'production'], { flavour: 'devstack', name: 'importing cache manifest from local:1' }],
  ['[production] exporting to image', ['devstack', 'production'], { flavour: 'production', name: 'exporting to image' }],
  ['[internal] load local bake definitions', ['devstack', 'production'], undefined],
  // One bake target: buildx adds no prefix, so the phase is the only flavour's.
  ['importing cache manifest from local:1', ['production'], { flavour: 'production', name: 'importing cache manifest from local:1' }],
  ['exporting to image', ['production'], { flavour: 'production', name: 'exporting to image' }],
  ['[internal] load build definition from Dockerfile', ['production'], undefined],
  ['[2/3] RUN x', ['production'], undefined],
  // Several targets always get the prefix: an unprefixed name is no flavour's.
  ['importing cache manifest from local:1', ['devstack', 'production'], undefined],
])('phaseOf(%j, %j)', (name, names, expected) => {
  expect(phaseOf(name, names)).toEqual(expected);
});

// Recorded with docker 26.1 + buildx 0.13.1 from fixtures/rawjson/one-target/Dockerfile as one bake
// target (`production`), so buildx prefixes nothing; NONCE a fresh value each time, so no step is
// cached: imported = from a local cache another NONCE's build exported (import succeeds), import-failed
// = from a registry reference that does not exist.
describe('one bake target, nothing cached, recorded', () => {
  const oneDir = path.join(dir, 'one-target');
  const oneModel = parseDockerfile(readFileSync(path.join(oneDir, 'Dockerfile'), 'utf8'));
  const recorded = (name: string) => {
    const parsed = parseRawJson(readFileSync(path.join(oneDir, `${name}.rawjson`), 'utf8'));
    return buildReport(parsed.statuses, { flavours: [{ name: 'production', stage: 'production' }], model: oneModel, messages: parsed.text });
  };

  test.each([
    ['imported', /^importing cache manifest from local:\d+$/, undefined, 'no step of the build was cached although a cache was imported: it was made from other base images or early steps'],
    [
      'import-failed',
      /^importing cache manifest from 127\.0\.0\.1:15000\/image-build-fixture-[0-9a-f]+\/cache:none$/,
      /not found$/,
      /^no cache was imported \(failed to configure registry cache importer: .*: not found\) and no step was cached: the first build of this cache scope, or its cache is gone$/,
    ],
  ] as const)('%s', (name, phase, error, hint) => {
    const [production] = recorded(name).flavours;
    expect(production?.steps).toEqual({ total: 2, cached: 0, run: 2 });
    const imports = production?.phases.filter((p) => p.name.startsWith('importing cache manifest')) ?? [];
    expect(imports.map((p) => p.name)).toEqual([expect.stringMatching(phase)]);
    if (error) expect(imports[0]?.error).toMatch(error);
    else expect(imports[0]?.error).toBeUndefined();
    expect(production?.phases.map((p) => p.name)).toContain('exporting to image');
    const cause = production?.firstMiss?.cause;
    expect(cause?.kind).toBe('unknown');
    expect(cause?.kind === 'unknown' ? cause.hint : '').toMatch(hint);
  });
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

  // Causes longer than the 80 characters other cells are cut at stay whole: the table wraps them.
  test.each<[string, () => ReturnType<typeof report>, RegExp]>([
    ['a moved base image keeps both digests', () => report('base', sameArgs), /^base image docker\.io\/local\/busybox:rec moved \(sha256:[0-9a-f]{12} -> sha256:[0-9a-f]{12}\)$/],
    [
      'an unknown cause keeps its whole hint',
      () => report('code', { ...sameArgs, changedFilesUnknown: 'the clone is shallow: use `fetch-depth: 2` in actions/checkout' }),
      /^unknown: .*\(the clone is shallow: use `fetch-depth: 2` in actions\/checkout\)$/,
    ],
  ])('markdown: %s', (_, make, expected) => {
    const built = make();
    const cause = describeCause(built.flavours[0]!.firstMiss!.cause);
    expect(cause).toMatch(expected);
    expect(cause.length).toBeGreaterThan(80);
    expect(reportMarkdown(built, {}).split('\n').find((l) => l.startsWith('| devstack |'))?.split(' | ')[5]).toBe(cause);
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

// Recorded with docker 26.1 + buildx 0.13.1 from fixtures/rawjson/shared/Dockerfile (targets
// devstack=dev, production=production; production and dev both start with the same RUN, so BuildKit
// runs it once): shared-cold = one platform, the shared RUN reported as `[devstack production 1/1]`;
// multi-half = platforms linux/amd64,linux/amd64/v2 right after, amd64 cached, amd64/v2 new;
// multi-instruction = both platforms again after editing dev's last RUN (Dockerfile.edited).
describe('shared steps and several platforms, recorded', () => {
  const sharedDir = path.join(dir, 'shared');
  const sharedModel = (file = 'Dockerfile') => parseDockerfile(readFileSync(path.join(sharedDir, file), 'utf8'));
  const recorded = (name: string, options: Partial<ReportOptions> = {}, file = 'Dockerfile') => {
    const parsed = parseRawJson(readFileSync(path.join(sharedDir, `${name}.rawjson`), 'utf8'));
    return buildReport(parsed.statuses, { flavours, model: sharedModel(file), messages: parsed.text, ...options });
  };
  const coldRecord = buildRecordOf(recorded('shared-cold'), { devstack: { DEV_TOOLS: '1' }, production: {} });

  test.each([
    // name, Dockerfile, devstack [total, cached, run], production [...], stepCount, devstack first miss
    ['shared-cold', 'Dockerfile', [4, 1, 3], [3, 1, 2], 4, 'base 3/3'],
    ['multi-half', 'Dockerfile', [8, 5, 3], [6, 4, 2], 8, 'linux/amd64/v2 base 3/3'],
    ['multi-instruction', 'Dockerfile.edited', [8, 6, 2], [6, 6, 0], 8, 'linux/amd64 dev 2/2'],
  ] as const)('%s', (name, file, dev, prod, count, miss) => {
    const r = recorded(name, {}, file);
    const [devstack, production] = r.flavours;
    expect(Object.values(devstack!.steps)).toEqual(dev);
    expect(Object.values(production!.steps)).toEqual(prod);
    expect(r.stepCount).toBe(count);
    expect(stepLabel(devstack!.firstMiss!.step)).toMatch(new RegExp(`^${miss.replace(/\//g, '\\/')} `));
  });

  test('a step BuildKit names after another stage (`[devstack production 1/1]`) counts for both flavours, each under its own stage', () => {
    const r = recorded('shared-cold');
    expect(r.flavours[1]?.stepDetails.map((s) => `${s.stage} ${s.index}/${s.total}`)).toContain('production 1/1');
    // devstack's image has its four steps: WORKDIR, the base RUN, the shared RUN (dev's first) and its own.
    expect(r.flavours[0]?.stepDetails.map((s) => `${s.stage} ${s.index}/${s.total}`)).toEqual(['base 2/3', 'base 3/3', 'dev 1/2', 'dev 2/2']);
    expect(r.stepCount).toBe(4);
  });

  test('several platforms: one step per platform, the base image named once when every platform resolved it alike', () => {
    const r = recorded('multi-half');
    const platforms = new Set(r.flavours[0]?.stepDetails.map((s) => s.platform));
    expect(platforms).toEqual(new Set(['linux/amd64', 'linux/amd64/v2']));
    expect(r.flavours[0]?.stepDetails.filter((s) => s.platform === 'linux/amd64').every((s) => s.status === 'cached')).toBe(true);
    expect(Object.keys(r.baseImages)).toEqual(['localhost/org-actions/busybox:1.35.0']);
    expect(r.cacheHitRatio).toBeCloseTo(5 / 8, 5);
  });

  test('an edited instruction: named from the previous record, else "its instruction or an earlier input changed" with the ARGs it sees', () => {
    const buildArgs = { devstack: buildArgFingerprints({ DEV_TOOLS: '1' }), production: {} };
    const withRecord = recorded('multi-instruction', { buildArgs, previous: previousFromRecord(coldRecord) }, 'Dockerfile.edited');
    expect(withRecord.flavours[0]?.firstMiss?.cause).toEqual({ kind: 'instruction' });
    // The same record with another DEV_TOOLS: the changed build arg is named first.
    const otherArg = recorded('multi-instruction', { buildArgs: { ...buildArgs, devstack: buildArgFingerprints({ DEV_TOOLS: '2' }) }, previous: previousFromRecord(coldRecord) }, 'Dockerfile.edited');
    expect(otherArg.flavours[0]?.firstMiss?.cause).toEqual({ kind: 'build-arg', names: ['DEV_TOOLS'] });
    expect(describeCause({ kind: 'instruction' })).toBe('its instruction is new or changed since the previous build');
    expect(withRecord.flavours[1]?.firstMiss).toBeUndefined();
    const without = recorded('multi-instruction', {}, 'Dockerfile.edited');
    expect(without.flavours[0]?.firstMiss?.cause).toEqual({
      kind: 'unknown',
      hint: 'its instruction or an earlier input changed; the stage declares build arg `DEV_TOOLS` before it, whose previous values are unknown',
    });
  });

  test('the record keeps instruction fingerprints per stage, never the text', () => {
    expect(coldRecord.instructions?.production).toEqual([instructionFingerprint("RUN --network=none sh -c 'echo shared > shared.txt'")]);
    expect(JSON.stringify(coldRecord)).not.toContain('echo');
  });
});

describe('cause hints say only what is known', () => {
  const model = parseDockerfile('FROM busybox:1.36 AS base\nARG MODE\nWORKDIR /app\nCOPY app.txt ./\nRUN make $MODE\n');
  const at = (s: number) => `2024-01-01T00:00:0${s}Z`;
  const vertex = (digest: string, name: string, start: number, cached: boolean) => ({ digest, name, started: at(start), completed: at(start + 1), cached });
  const statuses = (cachedWorkdir: boolean, importError?: string): SolveStatus[] => [
    { vertexes: [vertex('f', `[1/4] FROM docker.io/library/busybox:1.36@sha256:${'a'.repeat(64)}`, 0, true)] },
    // One bake target: buildx names the import without a `[production]` prefix.
    ...(importError === undefined ? [] : [{ vertexes: [{ digest: 'i', name: 'importing cache manifest from reg/app-cache:production-main', started: at(0), completed: at(0), ...(importError ? { error: importError } : {}) }] }]),
    { vertexes: [vertex('w', '[2/4] WORKDIR /app', 1, cachedWorkdir)] },
    { vertexes: [vertex('c', '[3/4] COPY app.txt ./', 2, false)] },
    { vertexes: [vertex('r', '[4/4] RUN make $MODE', 3, false)] },
  ];
  const one = [{ name: 'production', stage: 'base' }];
  const hint = (s: SolveStatus[], options: Partial<ReportOptions> = {}) => {
    const cause = buildReport(s, { flavours: one, model, ...options }).flavours[0]?.firstMiss?.cause;
    return cause?.kind === 'unknown' ? cause.hint : cause?.kind;
  };

  test.each<[string, SolveStatus[], Partial<ReportOptions>, string | RegExp]>([
    ['nothing cached, no import: no cache yet, and no fetch-depth advice', statuses(false), {}, 'no step of the build was cached and no cache was imported: there was no cache to use yet'],
    ['nothing cached, the import failed', statuses(false, 'not found'), {}, /^no cache was imported \(not found\) and no step was cached: the first build of this cache scope/],
    ['nothing cached although the import worked', statuses(false, ''), {}, 'no step of the build was cached although a cache was imported: it was made from other base images or early steps'],
    ['earlier steps cached, shallow clone: the COPY may have a changed file', statuses(true), { changedFilesUnknown: 'the clone is shallow: use `fetch-depth: 2` in actions/checkout' }, 'its instruction or a copied file changed; the changed files are unknown (the clone is shallow: use `fetch-depth: 2` in actions/checkout)'],
    ['earlier steps cached, a first commit: no fetch-depth advice', statuses(true), { changedFilesUnknown: 'the commit has no parent to compare with' }, /the changed files are unknown \(the commit has no parent to compare with\)$/],
    ['earlier steps cached, changed files known but none copied', statuses(true), { changedFiles: ['README.md'] }, 'its instruction or a copied file changed; no changed file matches its sources'],
  ])('%s', (_, s, options, expected) => {
    expect(hint(s, options)).toMatch(expected);
  });

  test('a RUN after an unchanged COPY: a changed build arg is named when both values are known', () => {
    const runFirst: SolveStatus[] = statuses(true).map((st) => ({ vertexes: st.vertexes?.map((v) => (v.digest === 'c' ? { ...v, cached: true } : v)) }));
    const known = { buildArgs: { production: { MODE: 'b' } }, previous: { buildArgs: { production: { MODE: 'a' } } } };
    expect(buildReport(runFirst, { flavours: one, model, ...known }).flavours[0]?.firstMiss?.cause).toEqual({ kind: 'build-arg', names: ['MODE'] });
    expect(hint(runFirst)).toBe('its instruction or an earlier input changed; the stage declares build arg `MODE` before it, whose previous values are unknown');
    const same = { buildArgs: { production: { MODE: 'a' } }, previous: { buildArgs: { production: { MODE: 'a' } }, instructions: { base: [instructionFingerprint('RUN make $MODE')] } } };
    expect(hint(runFirst, same)).toBe('its instruction is unchanged and the steps before it were cached; else the cache has no result for this step (not exported, or evicted)');
  });
});

describe('a build that stopped before its first step', () => {
  const failed: SolveStatus[] = [{ vertexes: [{ digest: 'd', name: '[production internal] load build definition from Dockerfile', started: '2024-01-01T00:00:00Z', completed: '2024-01-01T00:00:01Z', error: 'dockerfile parse error' }] }];
  const r = buildReport(failed, { flavours });

  test('the summary says no build steps ran, with no miss and no ratio', () => {
    const md = reportMarkdown(r);
    expect(r.stepCount).toBe(0);
    expect(md).toMatch(/\| devstack \| 0 \| 0 \| 0 \| no build steps ran \| /);
    expect(md).toContain('No build steps ran, so there is no cache hit ratio');
    expect(md).not.toContain('Cache hit ratio');
    expect(md).not.toMatch(/\| none \|/);
  });

  test('pushed bytes the registry could not tell are "unknown", with the reason', () => {
    const md = reportMarkdown(report('warm', sameArgs), {}, { production: { imageBytes: 10, pushedUnknown: 'ghcr.io could not be read before the push: HTTP 503' } });
    expect(md).toMatch(/\| production \| .* \| unknown \| /);
    expect(md).toContain('Pushed bytes of production unknown: ghcr.io could not be read before the push: HTTP 503.');
  });
});
