// Benchmark for packages/dump-versioning against the harness MinIO, all in one run:
//  1. publishing a 50 MB dump set vs one plain PutObject of the same bytes with the same SDK client;
//  2. write requests and bytes written by a no-change publish (new commit, same content).
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gitAncestry, openStore, publish, type Compression } from '../../packages/dump-versioning/src/index.js';
import { loadServicesEnv } from '../../test/support/services-env.js';

const env = { ...loadServicesEnv(), ...process.env };
const TOTAL_BYTES = 50 * 1024 * 1024;
const ROUNDS = 5;
const WRITE_COMMANDS = new Set(['PutObject', 'UploadPart', 'CreateMultipartUpload', 'CompleteMultipartUpload', 'CopyObject', 'DeleteObject', 'DeleteObjects']);

const missing = ['TEST_S3_ENDPOINT', 'TEST_S3_ACCESS_KEY_ID', 'TEST_S3_SECRET_ACCESS_KEY'].filter((key) => !env[key]);
if (missing.length > 0) {
  console.log(`dump-versioning bench SKIPPED: ${missing.join(', ')} not set (run \`pnpm services:up\`)`);
  process.exit(0);
}

const counters = { writes: 0, writtenBytes: 0, commands: {} as Record<string, number> };
const client = new S3Client({
  endpoint: env.TEST_S3_ENDPOINT!,
  region: env.TEST_S3_REGION ?? 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: env.TEST_S3_ACCESS_KEY_ID!, secretAccessKey: env.TEST_S3_SECRET_ACCESS_KEY! },
});
// Counts what actually goes to MinIO: every command, and body bytes of writes.
client.middlewareStack.add(
  (next, context) => async (args) => {
    const name = String(context.commandName ?? '').replace(/Command$/, '');
    counters.commands[name] = (counters.commands[name] ?? 0) + 1;
    if (WRITE_COMMANDS.has(name)) {
      counters.writes++;
      const body = (args.input as { Body?: unknown }).Body;
      if (body instanceof Uint8Array || typeof body === 'string') counters.writtenBytes += Buffer.byteLength(body);
    }
    return next(args);
  },
  { step: 'initialize', name: 'benchCounter' },
);
const resetCounters = () => Object.assign(counters, { writes: 0, writtenBytes: 0, commands: {} });

/** A deterministic SQL-like dump set (compressible like real dumps, not trivially so). */
async function makeDumpSet(dir: string) {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  const databases = ['lms', 'ecommerce', 'discovery', 'credentials', 'notes'];
  const perFile = Math.floor(TOTAL_BYTES / (databases.length * 2));
  for (const database of databases) {
    const lines: string[] = [];
    let size = 0;
    while (size < perFile) {
      const line = `INSERT INTO \`table_${next() % 300}\` VALUES (${next()},'${next().toString(36)}${next().toString(36)}',${next() % 1000},'2024-01-${(next() % 28) + 1}');\n`;
      lines.push(line);
      size += line.length;
    }
    await mkdir(path.join(dir, 'mysql'), { recursive: true });
    await writeFile(path.join(dir, 'mysql', `${database}.sql`), lines.join('').slice(0, perFile));
    await mkdir(path.join(dir, 'mongo', database), { recursive: true });
    const bson = Buffer.alloc(perFile);
    for (let offset = 0; offset < perFile; offset += 4) bson.writeUInt32LE(next() % 4096, offset);
    await writeFile(path.join(dir, 'mongo', database, 'documents.bson'), bson);
  }
}

async function readAll(dir: string): Promise<Buffer> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  const parts = await Promise.all(files.map((entry) => readFile(path.join(entry.parentPath, entry.name))));
  return Buffer.concat(parts);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET');

const bucket = `dv-bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const work = await mkdtemp(path.join(tmpdir(), 'dv-bench-'));
try {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', ...args], { cwd: work }).toString().trim();
  git('init', '-q', '-b', 'master');
  git('commit', '-q', '--allow-empty', '-m', 'one');
  const first = git('rev-parse', 'HEAD');
  git('commit', '-q', '--allow-empty', '-m', 'two');
  const second = git('rev-parse', 'HEAD');
  const dumpDir = path.join(work, 'dump');
  await makeDumpSet(dumpDir);
  const store = openStore(`s3://${bucket}/dumps`, { s3Client: client });
  const ancestry = gitAncestry(work);
  const totalBytes = (await readAll(dumpDir)).length;

  const timePlainPut = async (round: number) => {
    const start = performance.now();
    const body = await readAll(dumpDir);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `baseline/${round}.bin`, Body: body }));
    return performance.now() - start;
  };
  const timePublish = async (round: number, compression: Compression) => {
    const start = performance.now();
    // A fresh service each round, so nothing is deduplicated against an earlier round.
    await publish({ store, service: `bench-${compression}-${round}`, dir: dumpDir, source: { commit: first, branch: 'master' }, ancestry, compression });
    return performance.now() - start;
  };

  await timePlainPut(-1); // warm up connections and the JIT
  const baseline: number[] = [];
  const gzip: number[] = [];
  const plain: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    baseline.push(await timePlainPut(round));
    gzip.push(await timePublish(round, 'gzip'));
    plain.push(await timePublish(round, 'none'));
  }
  const ratio = median(gzip) / median(baseline);
  console.log(`dump set: ${mib(totalBytes)} in 10 files; median of ${ROUNDS} rounds each, MinIO at ${env.TEST_S3_ENDPOINT}`);
  console.log(`plain PutObject of the same bytes:     ${median(baseline).toFixed(0)} ms`);
  console.log(`publish (default, gzip blobs):         ${median(gzip).toFixed(0)} ms  ratio ${ratio.toFixed(2)}x  goal <= 1.20x  ${verdict(ratio <= 1.2)}`);
  console.log(`publish (compression none, for info):  ${median(plain).toFixed(0)} ms  ratio ${(median(plain) / median(baseline)).toFixed(2)}x`);

  // No-change publish: same content at a new commit (commit entry + ref move, nothing else).
  resetCounters();
  await publish({ store, service: 'bench-gzip-0', dir: dumpDir, source: { commit: second, branch: 'master' }, ancestry });
  const { writes, writtenBytes, commands } = counters;
  console.log(`no-change publish (new commit):        ${writes} write request(s)  goal <= 4  ${verdict(writes <= 4)}`);
  console.log(`                                       ${writtenBytes} bytes written  goal <= 16384  ${verdict(writtenBytes <= 16 * 1024)}`);
  console.log(`                                       all requests: ${JSON.stringify(commands)}`);
  resetCounters();
  await publish({ store, service: 'bench-gzip-0', dir: dumpDir, source: { commit: second, branch: 'master' }, ancestry });
  console.log(`re-run on the same commit:             ${counters.writes} write request(s), ${counters.writtenBytes} bytes written`);
} finally {
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
    const objects = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (objects.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
  client.destroy();
}
