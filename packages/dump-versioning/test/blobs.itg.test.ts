import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, test } from 'vitest';
import { gitAncestry, publish, pull, verify, type ProgressEvent } from '../src/index.js';
import { backends, describeBackend, useBackendFixture } from './support.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** SQL-like text that compresses well but not trivially (no short period). */
function sqlLike(size: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = `INSERT INTO \`orders\` VALUES (${i},'${(i * 2654435761) % 1e9}','customer-${i % 9973}',${i % 1000});\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, size);
}

for (const backend of backends) {
  describeBackend(backend, 'blob storage of large and incompressible files', () => {
    const fixture = useBackendFixture(backend, 2);

    test('files over the in-memory limit stream through compression and back; incompressible files are stored as they are', async () => {
      // 20 MiB > the 16 MiB in-memory limit: streamed (the random one uncompressed, in several multipart parts).
      const files = {
        'mysql/big.sql': sqlLike(20 * MiB),
        'mongo/big/blobs.bson': randomBytes(20 * MiB),
        'mongo/big/small.bson': randomBytes(300 * 1024),
        'mysql/big.schema.json': Buffer.from('{"tables":["orders"]}\n'),
      };
      const dir = await fixture.dumpDir(files);
      const events: ProgressEvent[] = [];
      fixture.log.reset();
      const published = await publish({
        store: fixture.store,
        service: 'big',
        dir,
        source: { commit: fixture.repo.commits[0]!, branch: 'master' },
        ancestry: gitAncestry(fixture.repo.dir),
        onProgress: (event) => events.push(event),
      });
      expect(Object.fromEntries(published.files.map((file) => [file.path, file.compression]))).toEqual({
        'mongo/big/blobs.bson': 'none',
        'mongo/big/small.bson': 'none',
        'mysql/big.schema.json': 'brotli',
        'mysql/big.sql': 'brotli',
      });
      const total = 40 * MiB + 300 * 1024 + 22;
      // bytesUploaded is what the store holds (compressed); the uncompressed total is reported separately.
      let stored = 0;
      for await (const object of fixture.store.list('big/blobs/')) stored += object.size;
      expect(published).toMatchObject({ blobsUploaded: 4, bytesUploaded: stored, bytesUploadedUncompressed: total });
      expect(stored).toBeLessThan(total - 10 * MiB);
      expect(events.at(-1)).toEqual({ phase: 'upload', done: total, total });
      if (backend.name === 's3') expect(fixture.log.commands.CreateMultipartUpload ?? 0).toBeGreaterThanOrEqual(1);

      const out = path.join(await fixture.dumpDir({}), 'pulled');
      await pull({ store: fixture.store, service: 'big', commit: fixture.repo.commits[0]!, out });
      for (const [relative, content] of Object.entries(files)) {
        expect(sha256(await readFile(path.join(out, relative))), relative).toBe(sha256(content));
      }
      expect(await verify({ store: fixture.store, service: 'big' })).toMatchObject({ ok: true });
    });
  });
}
