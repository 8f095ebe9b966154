import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { openStore, type Store } from '../src/index.js';

const run = promisify(execFile);

/** A temp git repository with a linear history of `count` commits; returns their shas, oldest first. */
export async function makeLinearRepo(count: number): Promise<{ dir: string; commits: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dv-repo-'));
  const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir });
  await git('init', '-q', '-b', 'master');
  const commits: string[] = [];
  for (let i = 0; i < count; i++) {
    await writeFile(path.join(dir, 'step.txt'), `${i}\n`);
    await git('add', 'step.txt');
    await git('commit', '-q', '-m', `step ${i}`);
    commits.push((await git('rev-parse', 'HEAD')).stdout.trim());
  }
  return { dir, commits };
}

/**
 * Like makeLinearRepo, for long histories: the commits are written by one `git fast-import` instead of
 * three git processes each. HEAD is master; shas oldest first.
 */
export async function makeLongRepo(count: number): Promise<{ dir: string; commits: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dv-long-repo-'));
  await run('git', ['init', '-q', '-b', 'master'], { cwd: dir });
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}`;
  const stream = Array.from({ length: count }, (_, i) =>
    [`commit refs/heads/master`, `mark :${i + 1}`, `committer t <t@example.com> ${1_700_000_000 + i * 60} +0000`, data(`step ${i}`), ...(i > 0 ? [`from :${i}`] : []), 'M 100644 inline step.txt', data(`${i}\n`)].join('\n'),
  ).join('\n\n');
  await new Promise<void>((resolve, reject) => {
    const child = execFile('git', ['fast-import', '--quiet'], { cwd: dir }, (error) => (error ? reject(error) : resolve()));
    child.stdin!.end(stream);
  });
  await run('git', ['reset', '-q', '--hard', 'master'], { cwd: dir });
  const commits = (await run('git', ['rev-list', '--reverse', 'master'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 })).stdout.split('\n').filter(Boolean);
  return { dir, commits };
}

/** Writes a dump set directory from `{ relativePath: content }`. */
export async function makeDumpDir(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dv-dump-'));
  for (const [relative, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
    await writeFile(path.join(dir, relative), content);
  }
  return dir;
}

export const sampleDump = (label: string) => ({
  'mysql/app.sql': `CREATE TABLE t_${label} (id int);\n`,
  'mysql/app.schema.json': `{"tables":["t_${label}"]}\n`,
  'mongo/app/things.bson': Buffer.from(`bson-${label}`),
  'mongo/app/things.metadata.json': `{"indexes":[],"label":"${label}"}\n`,
});

export interface RequestLog {
  /** S3 commands sent, e.g. { PutObject: 3 } (S3 only). */
  commands: Record<string, number>;
  /** Keys written through PutObject/CreateMultipartUpload (S3 only). */
  writtenKeys: string[];
  reset(): void;
}

export interface Backend {
  name: 'filesystem' | 's3';
  /** A fresh, empty store plus the request log of its client. */
  open(): Promise<{ store: Store; url: string; log: RequestLog; reopen: () => Store }>;
  cleanup(): Promise<void>;
}

function newLog(): RequestLog {
  const log: RequestLog = {
    commands: {},
    writtenKeys: [],
    reset() {
      log.commands = {};
      log.writtenKeys = [];
    },
  };
  return log;
}

export function s3Client(): S3Client {
  return new S3Client({
    endpoint: process.env.TEST_S3_ENDPOINT!,
    region: process.env.TEST_S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.TEST_S3_ACCESS_KEY_ID!, secretAccessKey: process.env.TEST_S3_SECRET_ACCESS_KEY! },
  });
}

/** Counts every command the client sends (real requests to MinIO, not a mock). */
export function countRequests(client: S3Client, log: RequestLog) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      log.commands[name] = (log.commands[name] ?? 0) + 1;
      const input = args.input as { Key?: string };
      if ((name === 'PutObject' || name === 'CreateMultipartUpload') && input.Key) log.writtenKeys.push(input.Key);
      return next(args);
    },
    { step: 'initialize', name: 'testRequestCounter' },
  );
}

export async function emptyAndDeleteBucket(client: S3Client, bucket: string) {
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
    const objects = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (objects.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

export const backends: Backend[] = [
  (() => {
    const dirs: string[] = [];
    return {
      name: 'filesystem' as const,
      async open() {
        const dir = await mkdtemp(path.join(tmpdir(), 'dv-store-'));
        dirs.push(dir);
        return { store: openStore(dir), url: dir, log: newLog(), reopen: () => openStore(dir) };
      },
      async cleanup() {
        await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
      },
    };
  })(),
  (() => {
    const buckets: string[] = [];
    return {
      name: 's3' as const,
      async open() {
        const bucket = `dv-itg-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
        const admin = s3Client();
        await admin.send(new CreateBucketCommand({ Bucket: bucket }));
        admin.destroy();
        buckets.push(bucket);
        const log = newLog();
        const client = s3Client();
        countRequests(client, log);
        const url = `s3://${bucket}/dumps`;
        // reopen: a separate client (own connection pool), as a separate CI run would have.
        return { store: openStore(url, { s3Client: client }), url, log, reopen: () => openStore(url, { s3Client: s3Client() }) };
      },
      async cleanup() {
        const admin = s3Client();
        for (const bucket of buckets) await emptyAndDeleteBucket(admin, bucket);
        admin.destroy();
      },
    };
  })(),
];

/** describe() for the filesystem store, describeWithServices(['s3']) for MinIO. */
export function describeBackend(backend: Backend, title: string, body: () => void) {
  if (backend.name === 's3') describeWithServices(['s3'], `${title} [s3]`, body);
  else describe(`${title} [filesystem]`, body);
}

export interface BackendFixture {
  store: Store;
  log: RequestLog;
  repo: { dir: string; commits: string[] };
  /** A dump set directory from `files`, removed after the suite. */
  dumpDir(files: Record<string, string | Buffer>): Promise<string>;
}

/** Inside a describe: a fresh store of `backend` and a linear repository of `commits` commits, cleaned up after the suite. */
export function useBackendFixture(backend: Backend, commits: number): BackendFixture {
  const dirs: string[] = [];
  const fixture = {
    async dumpDir(files: Record<string, string | Buffer>) {
      const dir = await makeDumpDir(files);
      dirs.push(dir);
      return dir;
    },
  } as BackendFixture;
  beforeAll(async () => {
    ({ store: fixture.store, log: fixture.log } = await backend.open());
    fixture.repo = await makeLinearRepo(commits);
    dirs.push(fixture.repo.dir);
  });
  afterAll(async () => {
    await fixture.store.close();
    await backend.cleanup();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return fixture;
}
