import { CreateBucketCommand, DeleteObjectsCommand, DeleteBucketCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeChecksumsFile } from '@org/dump-set';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../bin/devstack-dumps.mjs', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (bin script, tsx) in a child process, the way a developer does. */
export function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A fresh MinIO bucket for one test file, with the env and flags the CLI needs to reach it. */
export class TestBucket {
  readonly name = `devstack-dumps-${randomBytes(4).toString('hex')}`;
  readonly client = new S3Client({
    endpoint: process.env.TEST_S3_ENDPOINT!,
    region: process.env.TEST_S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.TEST_S3_ACCESS_KEY_ID!, secretAccessKey: process.env.TEST_S3_SECRET_ACCESS_KEY! },
  });

  /** Credentials the way a developer has them: the standard AWS variables. */
  readonly env: NodeJS.ProcessEnv = {
    AWS_ACCESS_KEY_ID: process.env.TEST_S3_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: process.env.TEST_S3_SECRET_ACCESS_KEY,
    AWS_REGION: process.env.TEST_S3_REGION ?? 'us-east-1',
  };

  url(prefix: string): string {
    return `s3://${this.name}/${prefix}`;
  }

  async create(): Promise<void> {
    await this.client.send(new CreateBucketCommand({ Bucket: this.name }));
  }

  async remove(): Promise<void> {
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.name })) {
      const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
      if (keys.length > 0) await this.client.send(new DeleteObjectsCommand({ Bucket: this.name, Delete: { Objects: keys } }));
    }
    await this.client.send(new DeleteBucketCommand({ Bucket: this.name }));
    this.client.destroy();
  }
}

export interface InterruptedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether SIGINT was sent (false: the command ended before `when` held). */
  sent: boolean;
}

/**
 * Runs the CLI (`program`: the bin script from source, or the shipped bundle) and sends it SIGINT, what
 * Ctrl-C sends, once `when` holds for its stderr so far (checked on every chunk and every 5 ms).
 */
export function interruptWhen(program: string, args: string[], cwd: string, when: RegExp | ((stderr: string) => boolean)): Promise<InterruptedRun> {
  const ready = typeof when === 'function' ? when : (text: string) => when.test(text);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [program, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const check = () => {
      if (!sent && ready(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    };
    const poll = setInterval(check, 5);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('close', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr, sent });
    });
  });
}

/**
 * A one-table MySQL dump set in `<dir>` as `dump` leaves it, with its checksum list beside it (the CLI
 * publishes only a dump set that has one).
 */
export async function writeSmallDumpSet(dir: string): Promise<void> {
  const files = { 'mysql/app.schema.json': '{"format":1,"tables":[]}\n', 'mysql/app.sql': 'CREATE TABLE a (id int);\n' };
  await mkdir(path.join(dir, 'mysql'), { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  await writeChecksumsFile(
    dir,
    Object.entries(files).map(([file, text]) => ({ path: file, sha256: createHash('sha256').update(text).digest('hex'), size: Buffer.byteLength(text) })),
  );
}
