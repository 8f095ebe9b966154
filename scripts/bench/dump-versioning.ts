// Benchmark for packages/dump-versioning against the harness MinIO, all in one run:
//  1. publishing a 50 MB dump set vs one plain PutObject of the same bytes with the same SDK client
//     (default brotli blobs; gzip and uncompressed for comparison);
//  2. write requests and bytes written by a no-change publish (new commit, same content), without
//     migrations and with a 200-migration record (fingerprint + applied list) like a real service's.
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import {
  encodeCommitEntry,
  fingerprintMigrations,
  gitAncestry,
  openStore,
  publish,
  readCommitEntry,
  type Compression,
  type MigrationsInfo,
} from '../../packages/dump-versioning/src/index.js';
import { loadServicesEnv } from '../../test/support/services-env.js';

const env = { ...loadServicesEnv(), ...process.env };
const TOTAL_BYTES = 50 * 1024 * 1024;
const ROUNDS = 7;
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

/**
 * A deterministic SQL-like dump set, compressible like real dumps (gzip -1: SQL to ~32%, BSON to ~50%),
 * not trivially so. Math.imul keeps the generator exact (a float multiply lost its low bits and made the
 * data repeat, so it gzipped to ~5% and flattered the publish); BSON words take the generator's high bits.
 */
async function makeDumpSet(dir: string) {
  let seed = 42;
  const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
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
    for (let offset = 0; offset < perFile; offset += 4) bson.writeUInt32LE(next() >>> 20, offset);
    await writeFile(path.join(dir, 'mongo', database, 'documents.bson'), bson);
  }
}

async function readAll(dir: string): Promise<Buffer> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile());
  const parts = await Promise.all(files.map((entry) => readFile(path.join(entry.parentPath, entry.name))));
  return Buffer.concat(parts);
}

/** `count` migrations spread over 20 apps, named and hashed like Django's, all applied. */
function djangoMigrations(count: number): MigrationsInfo {
  const records = Array.from({ length: count }, (_, i) => ({
    app: `app_${String(i % 20).padStart(2, '0')}`,
    name: `${String(Math.floor(i / 20) + 1).padStart(4, '0')}_alter_model_field_${i}`,
    sha256: randomBytes(32).toString('hex'),
  }));
  return { fingerprint: fingerprintMigrations(records), applied: records.map((record) => `${record.app}.${record.name}`) };
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
  git('commit', '-q', '--allow-empty', '-m', 'three');
  const third = git('rev-parse', 'HEAD');
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
  const kinds: Compression[] = ['brotli', 'gzip', 'none'];
  const baseline: number[] = [];
  const timings = new Map<Compression, number[]>(kinds.map((kind) => [kind, []]));
  for (let round = 0; round < ROUNDS; round++) {
    baseline.push(await timePlainPut(round));
    for (const kind of kinds) timings.get(kind)!.push(await timePublish(round, kind));
  }
  // Ratios per round (publish vs the plain put measured just before it), so load from other processes
  // on the machine shifts both sides of a ratio alike; the median of those is the figure.
  const ratiosOf = (kind: Compression) => timings.get(kind)!.map((ms, round) => ms / baseline[round]!);
  const storedSummary = async (kind: Compression) => {
    let bytes = 0;
    let uncompressed = 0;
    for await (const object of store.list(`bench-${kind}-0/blobs/`)) {
      bytes += object.size;
      if (!/\.(br|gz)$/.test(object.key)) uncompressed++;
    }
    return `stored ${mib(bytes)}${kind === 'none' ? '' : ` (${uncompressed} of 10 blobs left uncompressed by the size check)`}`;
  };
  console.log(`dump set: ${mib(totalBytes)} in 10 files; ${ROUNDS} rounds, MinIO at ${env.TEST_S3_ENDPOINT}; load average ${loadavg()[0]!.toFixed(2)} at start`);
  console.log(`plain PutObject of the same bytes:     ${median(baseline).toFixed(0)} ms (median; rounds ${Math.min(...baseline).toFixed(0)}-${Math.max(...baseline).toFixed(0)})`);
  for (const kind of kinds) {
    const ratios = ratiosOf(kind);
    const ratio = median(ratios);
    const label = kind === 'brotli' ? 'publish (default, brotli blobs):' : `publish (${kind} blobs, for info):`;
    const goal = kind === 'brotli' ? `  goal <= 1.20x  ${verdict(ratio <= 1.2)}` : '';
    const spread = `rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    console.log(`${label.padEnd(39)}${median(timings.get(kind)!).toFixed(0)} ms  ratio ${ratio.toFixed(2)}x (${spread})${goal}  ${await storedSummary(kind)}`);
  }

  // No-change publish: same content at a new commit (commit entry + ref move, nothing else).
  const measureWrites = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
    resetCounters();
    const result = await run();
    const { writes, writtenBytes, commands } = counters;
    console.log(`${label.padEnd(39)}${writes} write request(s)  goal <= 4  ${verdict(writes <= 4)}`);
    console.log(`${''.padEnd(39)}${writtenBytes} bytes written  goal <= 16384  ${verdict(writtenBytes <= 16 * 1024)}`);
    console.log(`${''.padEnd(39)}all requests: ${JSON.stringify(commands)}`);
    return result;
  };
  await measureWrites('no-change publish (new commit):', () =>
    publish({ store, service: 'bench-brotli-0', dir: dumpDir, source: { commit: second, branch: 'master' }, ancestry }),
  );
  resetCounters();
  await publish({ store, service: 'bench-brotli-0', dir: dumpDir, source: { commit: second, branch: 'master' }, ancestry });
  console.log(`re-run on the same commit:             ${counters.writes} write request(s), ${counters.writtenBytes} bytes written`);

  // The same with a 200-migration record, published first at the previous commit.
  const migrations = djangoMigrations(200);
  const service = 'bench-migrations';
  await publish({ store, service, dir: dumpDir, source: { commit: first, branch: 'master' }, ancestry, migrations });
  const noChange = await measureWrites('no-change publish, 200 migrations:', () =>
    publish({ store, service, dir: dumpDir, source: { commit: second, branch: 'master' }, ancestry, migrations }),
  );
  // For comparison: the same commit entry with the migrations inline, as schemaVersion 1 stored it.
  const entry = (await readCommitEntry(store, service, second))!;
  const stored = Buffer.byteLength(encodeCommitEntry(entry));
  const inline = Buffer.byteLength(encodeCommitEntry({ ...entry, schemaVersion: 1, migrationsRecord: undefined }));
  const recordBytes = (await store.get(noChange.migrationsRecord!.key))!.body.length;
  console.log(`${''.padEnd(39)}commit entry ${stored} bytes + a ${recordBytes}-byte record written once (inline it was ${inline} bytes)`);
  resetCounters();
  await publish({ store, service, dir: dumpDir, source: { commit: third, branch: 'master' }, ancestry, migrations: djangoMigrations(201) });
  console.log(`same dump, one migration added (info): ${counters.writes} write request(s), ${counters.writtenBytes} bytes written (incl. the new record)`);
} finally {
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
    const objects = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (objects.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
  client.destroy();
}
