import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { describeCause, parseBuildRecord, previousFromRecord, serializeBuildRecord, stepLabel } from '../src/index.js';
import { recordedBuilds, type RecordedBuild as Build } from './recorded-builds.js';

// Recorded with docker 26.1 + buildx 0.13.1 by fixtures/rawjson/miss-causes/record.ts: one-target
// bakes (production) of one context per scenario, the Dockerfile of each build (`<name>.Dockerfile`)
// edited from the one before. `<name>.record-head.json` is the record the code before per-stage
// records (commit 6b231e0) saved after that build: records written by it must still read.
//   bump   0: FROM <registry>/base:1@A            1: FROM <registry>/base:2@B (tag and digest)
//   arg    0: BASE_IMAGE=localhost/mc-base:1      1: BASE_IMAGE=localhost/mc-base:2   2: and PKG_VERSION=2
//   env    0: ENV APP_MODE=1   1: APP_MODE=2   2: `RUN echo cleanup` deleted   3: LABEL changed   4: ENV TAIL (end of base) changed
//   ignore 0: cold   1: README.md, docs/guide.txt (ignored) and src/a.txt changed   2: only the ignored ones   3: `*.md` no longer ignored
const dir = path.join(import.meta.dirname, 'fixtures/rawjson/miss-causes');
const A = 'sha256:fa8b8e2eacd2348a2e2c8d2f6ebf961bb1305b050d310a6e50e7ea87060737f9';
const B = 'sha256:8a9bb7fb076b61d8b92b21e1e90c8ce007235322fd9c539bde9dc56f69f1d190';
const REGISTRY_BASE = '127.0.0.1:15000/mc-fixture-pzsv5t/base';
/** The ignore files of the `ignore` scenario (record.ts): before and after build 3. */
const IGNORE = '.git\n*.md\ndocs/\n.dockerignore\nbake.json\n';
const IGNORE_3 = '.git\ndocs/\n.dockerignore\nbake.json\n';

const { read, report, recordOf } = recordedBuilds(dir, { name: 'production', stage: 'production' });
const headRecord = (name: string) => parseBuildRecord(read(`${name}.record-head.json`));
const firstMiss = (name: string, build: Build) => report(name, build).flavours[0]?.firstMiss;

describe('recorded: the first miss of each flavour and its cause, from the previous build\'s record', () => {
  test.each<[string, string, () => Build, string | undefined, string | RegExp | undefined]>([
    // D2a: the tag and digest of a pinned FROM changed.
    ['a FROM bumped to a new tag and digest', 'bump-1', () => ({ previous: previousFromRecord(recordOf('bump-0')) }), 'base 2/5 WORKDIR /bump', `base image of stage base changed ${REGISTRY_BASE}:1@${A.slice(0, 19)} -> ${REGISTRY_BASE}:2@${B.slice(0, 19)}`],
    // D2b: a global ARG naming the base image changed.
    ['a build arg naming the base image', 'arg-1', () => ({ args: { BASE_IMAGE: 'localhost/mc-base:2' }, previous: previousFromRecord(recordOf('arg-0', { BASE_IMAGE: 'localhost/mc-base:1' })) }), 'base 2/5 WORKDIR /arg', `base image of stage base changed localhost/mc-base:1@${A.slice(0, 19)} -> localhost/mc-base:2@${B.slice(0, 19)}`],
    ['a build arg naming the base image, previous record of the older format', 'arg-1', () => ({ args: { BASE_IMAGE: 'localhost/mc-base:2' }, previous: previousFromRecord(headRecord('arg-0')) }), 'base 2/5 WORKDIR /arg', 'changed build arg: BASE_IMAGE'],
    ['a FROM bumped, previous record of the older format: the stage\'s new base is none the previous build had', 'bump-1', () => ({ previous: previousFromRecord(headRecord('bump-0')) }), 'base 2/5 WORKDIR /bump', `unknown: the base image of stage base changed: ${REGISTRY_BASE}:2@${B.slice(0, 19)} is none of the previous build's base images (its record is of an older version, without a base per stage)`],
    // BuildKit shows the RUN as `RUN echo "pkgs 2 ..."`: the changed arg is still the one declared before it.
    ['a changed build arg shown substituted in the RUN', 'arg-2', () => ({ args: { BASE_IMAGE: 'localhost/mc-base:2', PKG_VERSION: '2' }, previous: previousFromRecord(recordOf('arg-1', { BASE_IMAGE: 'localhost/mc-base:2' })) }), 'base 4/5 RUN echo "pkgs 2 pzsv5t" > deps', 'changed build arg: PKG_VERSION'],
    ['without a record: only the ARGs declared before that RUN are listed', 'arg-2', () => ({ args: { PKG_VERSION: '2' } }), 'base 4/5 RUN echo "pkgs 2 pzsv5t" > deps', 'unknown: its instruction or an earlier input changed; the stage declares build args `UNUSED`, `PKG_VERSION` before it, whose previous values are unknown'],
    // D3: ENV edited, a RUN deleted, an ENV at the end of the parent stage edited.
    ['an edited ENV line', 'env-1', () => ({ previous: previousFromRecord(recordOf('env-0')) }), 'base 4/6 RUN echo pzsv5t > id', 'an earlier instruction of stage base changed or was removed (line 4)'],
    ['a deleted RUN line', 'env-2', () => ({ previous: previousFromRecord(recordOf('env-1')) }), 'base 5/5 RUN cat req.txt > deps', 'an earlier instruction of stage base changed or was removed (removed before line 7)'],
    ['a changed LABEL: every step cached', 'env-3', () => ({ previous: previousFromRecord(recordOf('env-2')) }), undefined, undefined],
    // BuildKit shows `RUN echo "tail $TAIL"` as `RUN echo "tail 2"`: not an edited RUN, an edited ENV of the parent stage.
    ['an ENV at the end of the parent stage', 'env-4', () => ({ previous: previousFromRecord(recordOf('env-3')) }), 'production 1/2 RUN echo "tail 2" > tail', 'an earlier instruction of stage base changed or was removed (line 8)'],
    // An older record has no stage instructions: nothing is claimed, nothing breaks. Nor is the RUN
    // called edited because BuildKit's name for it shows another ENV value (`RUN echo "tail 2"`).
    ['an ENV at the end of the parent stage, previous record of the older format', 'env-4', () => ({ previous: previousFromRecord(headRecord('env-3')) }), 'production 1/2 RUN echo "tail 2" > tail', 'unknown: its instruction or an earlier input changed'],
    ['an edited ENV line, previous record of the older format', 'env-1', () => ({ previous: previousFromRecord(headRecord('env-0')) }), 'base 4/6 RUN echo pzsv5t > id', /^unknown: its instruction is unchanged and the steps before it were cached/],
    // D4: files the .dockerignore excludes are not the cause; the ignore file itself is, for `COPY . .`.
    ['changed files the .dockerignore excludes', 'ignore-1', () => ({ changedFiles: ['README.md', 'docs/guide.txt', 'src/a.txt'], previous: previousFromRecord(recordOf('ignore-0')), contextIgnore: { content: IGNORE, file: '.dockerignore' } }), 'production 4/4 COPY . .', 'changed file: src/a.txt'],
    ['only excluded files changed: every step cached', 'ignore-2', () => ({ changedFiles: ['README.md', 'docs/guide.txt'] }), undefined, undefined],
    ['the .dockerignore changed (and excludes itself)', 'ignore-3', () => ({ changedFiles: ['.dockerignore'], contextIgnore: { content: IGNORE_3, file: '.dockerignore' } }), 'production 4/4 COPY . .', 'changed file: .dockerignore'],
  ])('%s', (_, name, build, step, reason) => {
    const miss = firstMiss(name, build());
    expect(miss && stepLabel(miss.step)).toBe(step);
    if (reason !== undefined) expect(describeCause(miss!.cause)).toMatch(reason);
  });

  test('the moved base image names its stage and both references', () => {
    expect(firstMiss('bump-1', { previous: previousFromRecord(recordOf('bump-0')) })?.cause).toEqual({
      kind: 'base-image',
      image: `${REGISTRY_BASE}:2`,
      previous: A,
      current: B,
      stage: 'base',
      previousImage: `${REGISTRY_BASE}:1`,
    });
  });

  test('records of the older format read without error, their new fields absent', () => {
    for (const name of ['bump-0', 'arg-0', 'env-0', 'env-1', 'env-3', 'ignore-0']) {
      const record = headRecord(name);
      expect(record.stageBases).toBeUndefined();
      expect(record.stageInstructions).toBeUndefined();
      expect(Object.keys(record.baseImages).length).toBeGreaterThan(0);
    }
  });

  test('the record keeps the base per root stage and every stage\'s instructions, never their text', () => {
    const record = recordOf('bump-0');
    expect(record.stageBases).toEqual({ '|base': `${REGISTRY_BASE}:1@${A}`, '|tools': expect.stringMatching(/^localhost\/org-actions\/busybox:1\.35\.0@sha256:[0-9a-f]{64}$/) });
    expect(Object.keys(record.stageInstructions ?? {})).toEqual(['base', 'production', 'tools']);
    expect(record.stageInstructions?.base?.map((e) => e.split(' ')[0])).toEqual(['FROM', 'WORKDIR', 'COPY', 'RUN', 'COPY']);
    expect(serializeBuildRecord(record)).not.toContain('req.txt');
  });
});
