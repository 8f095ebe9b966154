import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import * as core from '@actions/core';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { BuildPlan } from '../src/plan.js';
import { type BoundedDocker, boundedCommand } from '../src/docker.js';
import { blobsBeforePush, measureSizes } from '../src/sizes.js';

vi.mock('@actions/core', async (importOriginal) => ({ ...(await importOriginal<typeof import('@actions/core')>()), info: vi.fn(), warning: vi.fn() }));

const planFor = (image: string): BuildPlan =>
  ({ flavours: [{ name: 'production', stage: 'production', image }], tags: [{ name: 'sha-1234567', push: true }, { name: 'latest', push: true }], push: true }) as unknown as BuildPlan;

/** A runner like a registry that never answers: it only ever ends when the deadline kills it. */
const neverAnswers = (started: string[][]): BoundedDocker => (args, signal) =>
  new Promise((_, reject) => {
    started.push(args);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

beforeEach(() => vi.mocked(core.warning).mockClear());

describe('manifest lookups are bounded', () => {
  test('before the push: a registry that never answers costs the timeout, then one warning naming it per flavour', async () => {
    const started: string[][] = [];
    const begin = Date.now();
    const before = await blobsBeforePush(planFor('reg.example:5000/org/app'), { run: neverAnswers(started), timeoutMs: 200 });
    expect(Date.now() - begin).toBeLessThan(2000);
    expect(started).toEqual([
      ['buildx', 'imagetools', 'inspect', '--raw', 'reg.example:5000/org/app:sha-1234567'],
      ['buildx', 'imagetools', 'inspect', '--raw', 'reg.example:5000/org/app:latest'],
    ]);
    expect(before).toEqual({ production: { unknown: expect.stringMatching(/^reg\.example:5000 could not be read before the push: no answer within 0 s/) } });
    expect(core.warning).toHaveBeenCalledTimes(1);
    expect(vi.mocked(core.warning).mock.calls[0]?.[0]).toMatch(/^Cannot tell which layers of reg\.example:5000\/org\/app are new: reg\.example:5000 could not be read .*The build goes on/);
  });

  test('the deadline also ends the wait between retries', async () => {
    let calls = 0;
    const busy: BoundedDocker = async () => {
      calls++;
      return { exitCode: 1, stdout: '', stderr: 'ERROR: unexpected status from HEAD request: 503 Service Unavailable' };
    };
    const begin = Date.now();
    const before = await blobsBeforePush(planFor('reg.example/org/app'), { run: busy, timeoutMs: 100 });
    // The first backoff is 0.5-1 s: the 100 ms deadline ends it.
    expect(Date.now() - begin).toBeLessThan(450);
    expect(calls).toBe(2);
    expect(before.production).toEqual({ unknown: expect.stringContaining('no answer within') });
  });

  test('after the push: the size is left out with a warning naming the registry', async () => {
    const sizes = await measureSizes(planFor('reg.example/org/app'), { production: { 'containerimage.digest': `sha256:${'a'.repeat(64)}` } }, undefined, {
      run: neverAnswers([]),
      timeoutMs: 100,
    });
    expect(sizes).toEqual({});
    expect(vi.mocked(core.warning).mock.calls[0]?.[0]).toMatch(/^Cannot measure the size of reg\.example\/org\/app \(registry reg\.example\): no answer within/);
  });
});

describe('boundedCommand', () => {
  test('kills the command and the children it started when the signal aborts', async () => {
    // A parent that starts a child and waits on it, as `docker` does with the buildx plugin.
    const script = "const c=require('child_process').spawn(process.execPath,['-e','setInterval(()=>{},1000)'],{stdio:'inherit'});console.log(c.pid);setInterval(()=>{},1000)";
    const controller = new AbortController();
    const run = boundedCommand(process.execPath)(['-e', script], controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    // The grandchild printed its pid before the abort; it must be gone too.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const alive = execFileSync('ps', ['-eo', 'pid,args']).toString().split('\n').filter((l) => l.includes('setInterval(()=>{},1000)') && !l.includes('spawn('));
    expect(alive).toEqual([]);
  });

  test('returns exit code and output of a command that ends', async () => {
    const result = await boundedCommand(process.execPath)(['-e', 'process.stdout.write("out");process.stderr.write("err");process.exit(3)'], new AbortController().signal);
    expect(result).toEqual({ exitCode: 3, stdout: 'out', stderr: 'err' });
  });
});

// The real lookup against a registry that accepts the connection and never answers; needs the docker
// CLI with buildx (not an engine: imagetools talks to the registry itself).
const hasBuildx = (() => {
  try {
    execFileSync('docker', ['buildx', 'version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasBuildx)('docker buildx imagetools against a silent registry', () => {
  let server: Server;
  const sockets: Socket[] = [];
  beforeEach(async () => {
    server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });

  test('the lookup ends at the deadline with a warning naming the registry, and no buildx process is left', async () => {
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const begin = Date.now();
    const before = await blobsBeforePush(planFor(`${host}/org/app`), { timeoutMs: 1500 });
    expect(Date.now() - begin).toBeLessThan(5000);
    expect(sockets.length).toBeGreaterThan(0);
    expect(before.production).toEqual({ unknown: expect.stringContaining(`${host} could not be read before the push: no answer within`) });
    expect(vi.mocked(core.warning).mock.calls[0]?.[0]).toContain(`${host} could not be read`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes('imagetools') && l.includes(host));
    expect(left).toEqual([]);
  }, 15_000);
});
