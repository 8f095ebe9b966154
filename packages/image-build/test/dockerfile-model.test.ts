import { describe, expect, test } from 'vitest';
import { findCacheMounts, findStage, helperImageFor, parseDockerfile, resolveFromImage, rootStageOf, splitImageRef } from '../src/index.js';
import { fromArgNames, instructionText, STEP_KEYWORDS, stepNamePattern } from '../src/internal/dockerfile-model.js';

const DOCKERFILE = `ARG BASE_IMAGE=localhost/org/busybox:1.35.0
ARG PY=3.12
ARG EMPTY
FROM \${BASE_IMAGE} AS base
RUN --mount=type=cache,target=/root/.cache/pip true
FROM base AS deps
RUN --mount=type=cache,id=wheels,target=/w true
FROM python:\${PY}-slim AS py
FROM python:\${PY:-3.11}@sha256:${'a'.repeat(64)} AS pinned
FROM \${EMPTY:-debian:12} AS fallback
FROM \${EMPTY} AS unknown
FROM \${MISSING}
`;
const model = parseDockerfile(DOCKERFILE);
const stage = (name: string) => findStage(model, name)!;

describe('resolveFromImage', () => {
  test.each<[string, Record<string, string>, string | undefined]>([
    ['base', {}, 'localhost/org/busybox:1.35.0'],
    ['base', { BASE_IMAGE: `localhost/org/busybox@sha256:${'b'.repeat(64)}` }, `localhost/org/busybox@sha256:${'b'.repeat(64)}`],
    ['deps', {}, undefined],
    ['py', {}, 'python:3.12-slim'],
    ['py', { PY: '3.13' }, 'python:3.13-slim'],
    ['pinned', {}, `python:3.12@sha256:${'a'.repeat(64)}`],
    ['fallback', {}, 'debian:12'],
    ['unknown', {}, undefined],
    ['unknown', { EMPTY: 'alpine:3.20' }, 'alpine:3.20'],
    ['stage-6', {}, undefined],
  ])('%s with %j -> %s', (name, args, expected) => {
    expect(resolveFromImage(model, stage(name), args)).toBe(expected);
  });

  test('the root of a FROM chain is the stage that names an image', () => {
    expect(rootStageOf(model, stage('deps')).name).toBe('base');
    expect(rootStageOf(model, stage('py')).name).toBe('py');
  });
});

test.each([
  ['busybox', { repository: 'busybox' }],
  ['busybox:1.36', { repository: 'busybox', tag: '1.36' }],
  ['127.0.0.1:5000/org/app', { repository: '127.0.0.1:5000/org/app' }],
  ['127.0.0.1:5000/org/app:v1', { repository: '127.0.0.1:5000/org/app', tag: 'v1' }],
  [`ghcr.io/org/app:v1@sha256:${'c'.repeat(64)}`, { repository: 'ghcr.io/org/app', tag: 'v1', digest: `sha256:${'c'.repeat(64)}` }],
])('splitImageRef(%s)', (ref, expected) => {
  expect(splitImageRef(ref)).toEqual(expected);
});

describe('helperImageFor', () => {
  test('the base image of the stage with the first cache mount, build args applied', () => {
    const mounts = findCacheMounts(model);
    expect(helperImageFor(model, mounts)).toBe('localhost/org/busybox:1.35.0');
    expect(helperImageFor(model, mounts, { BASE_IMAGE: 'x/y:2' })).toBe('x/y:2');
    // The mount in `deps` (FROM base) resolves through the chain to the same image.
    expect(helperImageFor(model, mounts.filter((m) => m.stage === 'deps'))).toBe('localhost/org/busybox:1.35.0');
  });

  test('none without mounts or when the base cannot be known', () => {
    expect(helperImageFor(model, [])).toBeUndefined();
    const unknown = parseDockerfile('ARG B\nFROM ${B}\nRUN --mount=type=cache,target=/c true\n');
    expect(helperImageFor(unknown, findCacheMounts(unknown))).toBeUndefined();
  });
});

describe('fromArgNames: the global ARGs a FROM line names', () => {
  test.each<[string, string[]]>([
    ['base', ['BASE_IMAGE']],
    ['deps', []],
    ['py', ['PY']],
    ['pinned', ['PY']],
    ['fallback', ['EMPTY']],
    // `${MISSING}` is no global ARG: BuildKit has no value for it in FROM.
    ['stage-6', []],
  ])('%s -> %j', (name, names) => {
    expect(fromArgNames(model, stage(name))).toEqual(names);
  });
});

test.each<[string, string]>([
  ['FROM x\nRUN --mount=type=cache,target=/c,id=x \\\n    --network=none echo hi   there\n', 'RUN --mount=type=cache,target=/c,id=x --network=none echo hi there'],
  ['FROM x\nCOPY --from=b --chown=1:1 a b\n', 'COPY --from=b --chown=1:1 a b'],
  ['FROM x\nENV A=1 B="two words"\n', 'ENV A=1 B="two words"'],
  ['FROM x\nUSER nobody\n', 'USER nobody'],
])('instructionText of %j', (dockerfile, text) => {
  expect(instructionText(parseDockerfile(dockerfile).stages[0]!.steps[0]!)).toBe(text);
});

test.each<[string, string, boolean]>([
  // BuildKit substitutes ARG and ENV values into the names of RUN steps.
  ['echo "pkgs $PKG_VERSION"', 'RUN echo "pkgs 2"', true],
  ['echo ${A}-${B:-x} done', 'RUN --network=none echo 1-2 done', true],
  ['echo "pkgs $PKG_VERSION"', 'RUN echo "deps 2"', false],
  ['make (all)', 'RUN make (all)', true],
])('stepNamePattern(%j) matches %j: %s', (text, name, matches) => {
  expect(stepNamePattern(text).test(name)).toBe(matches);
});

test('the instructions BuildKit numbers as steps after FROM', () => {
  expect([...STEP_KEYWORDS].sort()).toEqual(['ADD', 'COPY', 'RUN', 'WORKDIR']);
});

describe('ARG names as BuildKit reads them', () => {
  test.each<[string, Array<{ name: string; value: string | null }>]>([
    ['ARG G=1', [{ name: 'G', value: '1' }]],
    // Two ARGs without defaults, not FOO with the value HTTP_PROXY (a proxy value would reach the history).
    ['ARG FOO HTTP_PROXY', [{ name: 'FOO', value: null }, { name: 'HTTP_PROXY', value: null }]],
    ['ARG A=1 B', [{ name: 'A', value: '1' }, { name: 'B', value: null }]],
    ['ARG C="x y" D=\'q\'', [{ name: 'C', value: 'x y' }, { name: 'D', value: 'q' }]],
  ])('%s', (line, names) => {
    const model = parseDockerfile(`FROM x AS s\n${line}\n`);
    expect(model.stages[0]!.steps.find((s) => s.keyword === 'ARG')?.argNames).toEqual(names);
  });
});
