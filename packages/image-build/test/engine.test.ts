import { expect, test } from 'vitest';
import { BuilderCapabilityError, builderCapabilityProblem, builderInspectArgs, builderProblem, EngineUnreachableError, InputError, usesContainerdStore } from '../src/index.js';

// `docker buildx inspect` output of buildx 0.13.1 (docker 26.1): it exits 0 when the engine is down.
const RUNNING = 'Name:   default\nDriver: docker\n\nNodes:\nName:             default\nEndpoint:         default\nStatus:           running\n';
const DOWN = 'Name:   default\nDriver: \nError:  Cannot connect to the Docker daemon at unix:///tmp/nope.sock. Is the docker daemon running?\n';

test.each<[string, { exitCode: number; stdout: string; stderr: string }, string, RegExp | undefined]>([
  ['the current builder answers', { exitCode: 0, stdout: RUNNING, stderr: '' }, '', undefined],
  ['the engine is down (exit 0 with an Error line)', { exitCode: 0, stdout: DOWN, stderr: '' }, '', /^Cannot reach the Docker engine at DOCKER_HOST=unix:\/\/\/tmp\/nope\.sock: Cannot connect to the Docker daemon .* set a builder up before this step \(docker\/setup-buildx-action\) and pass its name in `builder`\.$/],
  ['a builder that does not exist', { exitCode: 1, stdout: '', stderr: 'ERROR: no builder "nosuch" found\n' }, 'nosuch', /^Input `builder`: there is no buildx builder `nosuch`\. Create it first \(docker\/setup-buildx-action/],
  ['a named builder whose engine is down', { exitCode: 0, stdout: DOWN, stderr: '' }, 'ci', /^Cannot reach the buildx builder `ci` \(input `builder`\): Cannot connect/],
  ['any other failure', { exitCode: 1, stdout: '', stderr: 'permission denied while trying to connect\n' }, '', /^Cannot reach the Docker engine .*permission denied/],
])('%s', (_, result, builder, message) => {
  const problem = builderProblem(result, { builder, dockerHost: 'unix:///tmp/nope.sock' });
  if (!message) return expect(problem).toBeUndefined();
  expect(problem?.message).toMatch(message);
  expect(problem).toBeInstanceOf(builder === 'nosuch' ? InputError : EngineUnreachableError);
  expect(problem?.fatal).toBe(true);
});

test('without DOCKER_HOST the message says the default socket; the argv names the builder when given', () => {
  expect(builderProblem({ exitCode: 0, stdout: DOWN, stderr: '' }, { builder: '' })?.message).toMatch(/the default socket \(DOCKER_HOST is not set\)/);
  expect(builderInspectArgs('')).toEqual(['buildx', 'inspect']);
  expect(builderInspectArgs('ci')).toEqual(['buildx', 'inspect', 'ci']);
});

// `docker info --format '{{json .DriverStatus}}'` of docker 26.1: containerd image store, then the classic overlay2 store.
const CONTAINERD = '[["driver-type","io.containerd.snapshotter.v1"]]';
const CLASSIC = '[["Backing Filesystem","extfs"],["Supports d_type","true"],["Using metacopy","false"],["Native Overlay Diff","true"],["userxattr","false"]]';

test.each<[string, string, boolean]>([
  ['the containerd image store', CONTAINERD, true],
  ['the classic overlay2 store', CLASSIC, false],
  ['empty output (old engine)', '', false],
  ['null', 'null', false],
])('usesContainerdStore: %s', (_, json, expected) => {
  expect(usesContainerdStore(json)).toBe(expected);
});

test.each<[string, { driver: string | undefined; containerdStore: boolean }, { cacheExport: boolean; platforms: number }, RegExp | undefined]>([
  ['docker driver, classic store, cache export', { driver: 'docker', containerdStore: false }, { cacheExport: true, platforms: 1 }, /cannot export build cache \(`cache`\)\. Add `docker\/setup-buildx-action`/],
  ['docker driver, classic store, two platforms', { driver: 'docker', containerdStore: false }, { cacheExport: false, platforms: 2 }, /cannot build 2 platforms \(`platforms`\)\./],
  ['docker driver, classic store, both', { driver: 'docker', containerdStore: false }, { cacheExport: true, platforms: 3 }, /cannot export build cache \(`cache`\) and build 3 platforms/],
  ['docker driver, classic store, nothing it lacks', { driver: 'docker', containerdStore: false }, { cacheExport: false, platforms: 1 }, undefined],
  ['docker driver, containerd store', { driver: 'docker', containerdStore: true }, { cacheExport: true, platforms: 2 }, undefined],
  ['docker-container driver', { driver: 'docker-container', containerdStore: false }, { cacheExport: true, platforms: 2 }, undefined],
  ['driver not reported', { driver: undefined, containerdStore: false }, { cacheExport: true, platforms: 2 }, undefined],
])('builderCapabilityProblem: %s', (_, builder, needs, refusal) => {
  const problem = builderCapabilityProblem({ name: 'ci', ...builder }, needs);
  if (refusal) {
    expect(problem).toBeInstanceOf(BuilderCapabilityError);
    expect(problem?.message).toMatch(/^The buildx builder `ci` uses the docker driver on the classic image store/);
    expect(problem?.message).toMatch(refusal);
  } else {
    expect(problem).toBeUndefined();
  }
});
