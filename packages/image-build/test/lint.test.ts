import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { lintDockerfile, parseDockerfile, parseLintLevel, readContextFacts } from '../src/index.js';
import type { ContextFacts, LintRule } from '../src/index.js';
import { useTempDirs } from '../../../test/support/temp-dirs.js';

const temp = useTempDirs();

const clean: ContextFacts = { dockerignore: '.git\nnode_modules\n', nodeProject: true };
const lint = (dockerfile: string, facts: ContextFacts = clean) =>
  lintDockerfile(parseDockerfile(dockerfile, 'svc/Dockerfile'), facts, 'warn').map((f) => [f.rule, f.line] as [LintRule, number]);

/** The sample layout the README recommends: it must lint clean. */
const GOOD = `ARG PYTHON=3.12.4-slim@sha256:${'a'.repeat(64)}
FROM python:\${PYTHON} AS deps
WORKDIR /app
RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends libpq5
COPY requirements.txt ./
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

FROM deps AS dev
COPY requirements-dev.txt ./
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements-dev.txt
COPY . .

FROM deps AS production
COPY . .
USER 1000
`;

describe('lintDockerfile', () => {
  test('the recommended layout is clean', () => {
    expect(lint(GOOD)).toEqual([]);
  });

  test.each<[string, string, Array<[LintRule, number]>]>([
    [
      'COPY . before pip install (line of the COPY)',
      'FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n',
      [['copy-context-before-install', 3]],
    ],
    ['ADD ./ before npm ci', 'FROM node:20\nADD ./ /app\nRUN npm ci\n', [['copy-context-before-install', 2]]],
    ['COPY . after install is fine', 'FROM node:20\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n', []],
    [
      'apt-get update alone, install later',
      'FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n',
      [['apt-update-separate', 2]],
    ],
    ['update && install in one RUN over two lines', 'FROM debian:12\nRUN apt-get update && \\\n    apt-get install -y curl\n', []],
    [
      'proxy, mirror and UID ARGs before the install',
      'FROM python:3.12\nARG HTTP_PROXY\nARG PIP_INDEX_URL\nARG UID=1000\nRUN pip install flask\n',
      [['cache-busting-arg', 2], ['cache-busting-arg', 3], ['cache-busting-arg', 4]],
    ],
    ['UID ARG after the install is fine', 'FROM python:3.12\nRUN pip install flask\nARG UID=1000\nRUN useradd -u $UID app\n', []],
    [
      'dev stage FROM the stage with the code, installing dev deps',
      'FROM python:3.12 AS production\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n\nFROM production AS dev\nRUN pip install pytest\n',
      [['dev-stage-after-code', 6]],
    ],
    [
      'the code copy two stages up still counts',
      'FROM python:3.12 AS base\nCOPY . /src\nFROM base AS production\nRUN true\nFROM production AS dev\nRUN pip install pytest\n',
      [['dev-stage-after-code', 5]],
    ],
    ['unpinned: no tag and latest', 'FROM ubuntu\nFROM node:latest AS b\n', [['unpinned-base-image', 1], ['unpinned-base-image', 2]]],
    ['pinned: a tag, a digest, scratch or a stage', `FROM ubuntu:24.04 AS a\nFROM ubuntu@sha256:${'b'.repeat(64)}\nFROM scratch\nFROM a\n`, []],
    ['FROM ${ARG}: judged by the ARG default', 'ARG BASE=ubuntu:latest\nFROM ${BASE}\n', [['unpinned-base-image', 2]]],
    ['FROM ${ARG} with a pinned default, or no value to judge', 'ARG BASE=localhost/org/busybox:1.35.0\nARG OTHER\nFROM ${BASE}\nFROM ${OTHER}\n', []],
    [
      'a RUN with a cache mount that names a manifest is an installation too',
      'FROM busybox:1.36\nCOPY . .\nRUN --mount=type=cache,target=/root/.cache/wheels ./tools/install-deps pyproject.toml\n',
      [['copy-context-before-install', 2]],
    ],
    ['so is a RUN that reads a lockfile', 'FROM busybox:1.36\nCOPY . /app\nRUN /app/tools/setup /app/requirements.txt\n', [['copy-context-before-install', 2]]],
  ])('%s', (_, dockerfile, expected) => {
    expect(lint(dockerfile)).toEqual(expected);
  });

  // L1: after the dependencies are installed, `COPY . .` is followed by the build, which may use a
  // cache mount (Go's build cache, pip's wheel cache) without being a dependency installation.
  const GO = (afterCopy: string) =>
    `FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN --mount=type=cache,target=/go/pkg/mod go mod download\nCOPY . .\n${afterCopy}\n`;
  test.each<[string, string, Array<[LintRule, number]>]>([
    ['bad: go mod download after COPY . .', 'FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN --mount=type=cache,target=/go/pkg/mod go mod download\n', [['copy-context-before-install', 3]]],
    ['good: Docker\'s Go pattern, go build with the build cache after COPY . .', GO('RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build go build -o /out/app ./cmd/app'), []],
    ['good: go test with the build cache after COPY . .', GO('RUN --mount=type=cache,target=/root/.cache/go-build go test ./...'), []],
    [
      'good: pip install --no-deps . with the pip cache after the dependencies',
      'FROM python:3.12\nCOPY requirements.txt ./\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\nCOPY . .\nRUN --mount=type=cache,target=/root/.cache/pip pip install --no-deps .\n',
      [],
    ],
    ['good: python -m pip install --no-deps -e ./src', 'FROM python:3.12\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\nRUN python -m pip install --no-deps -e ./src\n', []],
    [
      "good: uv's documented pattern (dependencies with --no-install-project before the copy, uv sync after it)",
      'FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/uv --mount=type=bind,source=uv.lock,target=uv.lock --mount=type=bind,source=pyproject.toml,target=pyproject.toml uv sync --locked --no-install-project\nCOPY . /app\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n',
      [],
    ],
    ['good: poetry install --no-root before the copy, poetry install after it', 'FROM python:3.12\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\nCOPY . .\nRUN poetry install\n', []],
    ['bad: uv sync after the copy without a dependencies-only sync before it', 'FROM python:3.12\nCOPY . /app\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n', [['copy-context-before-install', 2]]],
    ['bad: a dependencies-only sync after the copy does not excuse it', 'FROM python:3.12\nCOPY . /app\nRUN uv sync --locked --no-install-project\nRUN uv sync --locked\n', [['copy-context-before-install', 2]]],
    ['good: poetry install --only-root', 'FROM python:3.12\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\nCOPY . .\nRUN --mount=type=cache,target=/root/.cache/pypoetry poetry install --only-root\n', []],
    ['good: npm run build with the npm cache after npm ci', 'FROM node:20\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN --mount=type=cache,target=/root/.npm npm run build\n', []],
    ['bad: pip install . without --no-deps installs the dependencies', 'FROM python:3.12\nCOPY . .\nRUN --mount=type=cache,target=/root/.cache/pip pip install .\n', [['copy-context-before-install', 2]]],
    ['bad: pip install --no-deps of a package from the index', 'FROM python:3.12\nCOPY . .\nRUN pip install --no-deps gunicorn==22.0.0\n', [['copy-context-before-install', 2]]],
    ['bad: pip install --no-deps of the lockfile', 'FROM python:3.12\nCOPY . .\nRUN pip install --no-deps --require-hashes -r requirements.txt\n', [['copy-context-before-install', 2]]],
    ['bad: the project install, then the dependencies in the same RUN', 'FROM python:3.12\nCOPY . .\nRUN pip install --no-deps . && npm ci\n', [['copy-context-before-install', 2]]],
    ['good: a stage FROM the code stage that runs the tests with the build cache', `${GO('RUN go build ./...')}FROM build AS test\nRUN --mount=type=cache,target=/root/.cache/go-build go test ./...\n`, []],
    ['bad: a stage FROM the code stage that downloads modules', `${GO('RUN go build ./...')}FROM build AS dev\nRUN --mount=type=cache,target=/go/pkg/mod go mod download\n`, [['dev-stage-after-code', 7]]],
  ])('copy before install, %s', (_, dockerfile, expected) => {
    expect(lint(dockerfile)).toEqual(expected);
  });

  // L2: only names that mean an index, mirror or registry are mirrors; other PIP_/APT_/NPM_CONFIG_ args are not.
  const argBefore = (name: string) => `FROM python:3.12\nARG ${name}\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\n`;
  test.each<[string, 'mirror' | 'uid' | null]>([
    ['PIP_INDEX_URL', 'mirror'],
    ['PIP_EXTRA_INDEX_URL', 'mirror'],
    ['PIP_TRUSTED_HOST', 'mirror'],
    ['UV_DEFAULT_INDEX', 'mirror'],
    ['NPM_CONFIG_REGISTRY', 'mirror'],
    ['YARN_NPM_REGISTRY_SERVER', 'mirror'],
    ['DEBIAN_MIRROR', 'mirror'],
    ['GOPROXY', 'mirror'],
    ['APT_PROXY', 'mirror'],
    ['PIP_VERSION', null],
    ['APT_PACKAGES', null],
    ['NPM_CONFIG_PRODUCTION', null],
    ['PIP_NO_CACHE_DIR', null],
    ['USER_UID', 'uid'],
    ['USER_GID', 'uid'],
    ['HOST_UID', 'uid'],
    ['USERNAME', null],
  ])('ARG %s before the install: %s', (name, kind) => {
    const findings = lintDockerfile(parseDockerfile(argBefore(name)), clean, 'warn');
    if (kind === null) expect(findings).toEqual([]);
    else {
      expect(findings.map((f) => [f.rule, f.line])).toEqual([['cache-busting-arg', 2]]);
      expect(findings[0]?.fix).toMatch(kind === 'mirror' ? /^Pass the mirror as a build secret/ : new RegExp(`^Move \`ARG ${name}\``));
    }
  });

  test('`ARG FOO HTTP_PROXY` declares both names: the proxy is reported', () => {
    const findings = lintDockerfile(parseDockerfile(argBefore('FOO HTTP_PROXY')), clean, 'warn');
    expect(findings.map((f) => [f.rule, f.line, f.fix.slice(0, 23)])).toEqual([['cache-busting-arg', 2, 'Remove `ARG HTTP_PROXY`']]);
  });

  // L3: apt options with a value, and an update in the stage a later stage is built FROM.
  test.each<[string, string, Array<[LintRule, number]>]>([
    ['bad: apt-get -o Acquire::Retries=3 update', 'FROM debian:12\nRUN apt-get -o Acquire::Retries=3 update\nRUN apt-get -o Acquire::Retries=3 install -y curl\n', [['apt-update-separate', 2]]],
    ['bad: apt-get --option value and -t release', 'FROM debian:12\nRUN apt-get -q --option Acquire::Retries=3 update\nRUN apt-get -t bookworm-backports install -y curl\n', [['apt-update-separate', 2]]],
    ['bad: the update in the parent stage, the install in the child', 'FROM debian:12 AS base\nRUN apt-get update\n\nFROM base AS dev\nRUN apt-get install -y curl\n', [['apt-update-separate', 2]]],
    ['bad: two stages down', 'FROM debian:12 AS base\nRUN apt-get update\nFROM base AS mid\nRUN true\nFROM mid AS dev\nRUN apt-get -y install curl\n', [['apt-update-separate', 2]]],
    ['good: -o options in one RUN', 'FROM debian:12\nRUN apt-get -o Acquire::Retries=3 update && apt-get -o Acquire::Retries=3 install -y curl\n', []],
    ['good: the child updates before it installs', 'FROM debian:12 AS base\nRUN apt-get update\n\nFROM base AS dev\nRUN apt-get update && apt-get install -y curl\n', []],
    ['good: an unrelated stage installs', 'FROM debian:12 AS base\nRUN apt-get update\n\nFROM debian:12 AS other\nRUN apt-get install -y curl\n', []],
  ])('apt, %s', (_, dockerfile, expected) => {
    expect(lint(dockerfile)).toEqual(expected);
  });

  test('the cross-stage apt finding names the install line and its stage', () => {
    const [finding] = lintDockerfile(parseDockerfile('FROM debian:12 AS base\nRUN apt-get update\n\nFROM base AS dev\nRUN apt-get install -y curl\n'), clean, 'warn');
    expect(finding?.message).toContain('the install on line 5 in stage `dev` (built FROM this one)');
  });

  test.each<[string, ContextFacts, string | undefined]>([
    ['no .dockerignore', { dockerignore: null, nodeProject: false }, 'has no .dockerignore'],
    ['.git not excluded', { dockerignore: 'dist\n', nodeProject: false }, 'does not exclude `.git`'],
    ['node_modules not excluded in a Node project', { dockerignore: '.git\n', nodeProject: true }, 'does not exclude `node_modules`'],
    ['globs and a leading slash count', { dockerignore: '/.git/\n**/node_modules\n', nodeProject: true }, undefined],
    ['a later ! pattern re-includes', { dockerignore: '.git\n!.git\n', nodeProject: false }, 'does not exclude `.git`'],
    ['.* excludes .git', { dockerignore: '.*\n', nodeProject: false }, undefined],
  ])('.dockerignore: %s', (_, facts, message) => {
    const findings = lintDockerfile(parseDockerfile('FROM alpine:3.20\n'), facts, 'warn');
    expect(findings.map((f) => f.message).join()).toMatch(message ?? /^$/);
    if (message) expect(findings[0]).toMatchObject({ rule: 'dockerignore', line: 1, file: 'Dockerfile' });
  });

  test('FROM ${ARG}: the build-args input overrides the default', () => {
    const model = parseDockerfile('ARG BASE=ubuntu:24.04\nFROM ${BASE}\n');
    expect(lintDockerfile(model, clean, 'warn', { BASE: 'ubuntu' }).map((f) => f.rule)).toEqual(['unpinned-base-image']);
    expect(lintDockerfile(model, clean, 'warn', { BASE: `ubuntu@sha256:${'c'.repeat(64)}` })).toEqual([]);
  });

  test('the sample service Dockerfile lints clean; its copy-first variant is flagged on the COPY line', async () => {
    const dir = path.join(import.meta.dirname, '../../../test/fixtures/sample-service');
    const facts = await readContextFacts(dir, path.join(dir, 'Dockerfile'));
    const good = await readFile(path.join(dir, 'Dockerfile'), 'utf8');
    expect(lintDockerfile(parseDockerfile(good), facts, 'warn')).toEqual([]);
    const bad = await readFile(path.join(dir, 'Dockerfile.copy-first'), 'utf8');
    const findings = lintDockerfile(parseDockerfile(bad), facts, 'warn');
    expect(findings.map((f) => [f.rule, f.line])).toEqual([['copy-context-before-install', bad.split('\n').indexOf('COPY . .') + 1]]);
  });

  test('severity follows the lint input; off reports nothing', () => {
    const dockerfile = parseDockerfile('FROM ubuntu\n');
    expect(lintDockerfile(dockerfile, clean, 'error')[0]).toMatchObject({ severity: 'error', file: 'Dockerfile', line: 1 });
    expect(lintDockerfile(dockerfile, clean, 'warn')[0]?.severity).toBe('warning');
    expect(lintDockerfile(dockerfile, clean, 'off')).toEqual([]);
    expect(() => parseLintLevel('strict')).toThrow(/Input `lint`/);
  });

  test('every finding says how to fix it', () => {
    const findings = lintDockerfile(parseDockerfile('FROM ubuntu\nARG HTTP_PROXY\nCOPY . .\nRUN apt-get update\nRUN apt-get install -y x\n'), { dockerignore: null, nodeProject: false }, 'warn');
    expect(findings.length).toBeGreaterThanOrEqual(4);
    for (const f of findings) expect(f.fix.length).toBeGreaterThan(10);
  });
});

test('readContextFacts: <Dockerfile>.dockerignore wins, package.json marks a Node project', async () => {
  const dir = await temp.make('ib-ctx-');
  expect(await readContextFacts(dir, path.join(dir, 'Dockerfile'))).toEqual({ dockerignore: null, context: dir, nodeProject: false });
  await writeFile(path.join(dir, '.dockerignore'), '.git\n');
  await writeFile(path.join(dir, 'package.json'), '{}');
  expect(await readContextFacts(dir, path.join(dir, 'Dockerfile'))).toMatchObject({ dockerignore: '.git\n', dockerignoreFile: `${dir}/.dockerignore`, nodeProject: true });
  await writeFile(path.join(dir, 'Dockerfile.dockerignore'), 'node_modules\n');
  expect((await readContextFacts(dir, path.join(dir, 'Dockerfile'))).dockerignore).toBe('node_modules\n');
});

// BuildKit reads `<context>/.dockerignore`, or `<Dockerfile path>.dockerignore` (which wins); never a
// `.dockerignore` next to a Dockerfile outside the context root.
describe('dockerignore with `file: docker/Dockerfile` and `context: .`', () => {
  const shown = { context: '.', file: 'docker/Dockerfile' };
  const model = parseDockerfile('FROM alpine:3.20\n', 'docker/Dockerfile');
  async function workspace(files: Record<string, string>): Promise<string> {
    const root = await temp.make('ib-ws-');
    await mkdir(path.join(root, 'docker'));
    await writeFile(path.join(root, 'docker/Dockerfile'), 'FROM alpine:3.20\n');
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(root, name), content);
    return root;
  }
  const findings = async (files: Record<string, string>) => {
    const root = await workspace(files);
    return lintDockerfile(model, await readContextFacts(root, path.join(root, 'docker/Dockerfile'), shown), 'warn');
  };

  test.each<[string, Record<string, string>, RegExp | undefined]>([
    ['docker/Dockerfile.dockerignore satisfies the rule', { 'docker/Dockerfile.dockerignore': '.git\n' }, undefined],
    ['the context root .dockerignore satisfies it', { '.dockerignore': '.git\n' }, undefined],
    ['docker/.dockerignore is not read by BuildKit', { 'docker/.dockerignore': '.git\n' }, /has no \.dockerignore \(nor docker\/Dockerfile\.dockerignore\)/],
    ['a Dockerfile ignore file that misses .git is named', { 'docker/Dockerfile.dockerignore': 'tmp\n', '.dockerignore': '.git\n' }, /^docker\/Dockerfile\.dockerignore does not exclude `\.git`/],
  ])('%s', async (_, files, message) => {
    const found = await findings(files);
    if (message) expect(found.map((f) => f.message).join('\n')).toMatch(message);
    else expect(found).toEqual([]);
  });

  test('the fix names the two files BuildKit reads, not "next to the Dockerfile"', async () => {
    const [finding] = await findings({});
    expect(finding?.fix).toBe('Add `.dockerignore` (at the root of the build context), or `docker/Dockerfile.dockerignore` for this Dockerfile only, listing at least `.git`.');
    const nested = lintDockerfile(model, { dockerignore: null, context: 'services/api', nodeProject: true }, 'warn')[0];
    expect(nested?.fix).toMatch(/^Add `services\/api\/\.dockerignore` .* listing at least `\.git` and `node_modules`\.$/);
  });
});
