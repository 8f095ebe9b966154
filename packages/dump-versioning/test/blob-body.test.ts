import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { chooseCompression, compressBytes, worthCompressing } from '../src/internal/blob-body.js';

const sqlLike = (size: number) =>
  Buffer.from(Array.from({ length: Math.ceil(size / 40) }, (_, i) => `INSERT INTO t VALUES (${i},'row-${i % 977}');\n`).join('')).subarray(0, size);

describe('chooseCompression', () => {
  const file = '/nonexistent/only-bytes-are-read';

  test('compressible files get the requested compression', async () => {
    const bytes = sqlLike(1024 * 1024);
    expect(await chooseCompression(file, bytes, bytes.length, 'brotli')).toBe('brotli');
    expect(await chooseCompression(file, bytes, bytes.length, 'gzip')).toBe('gzip');
  });

  test('files whose sample barely shrinks are stored uncompressed', async () => {
    const random = randomBytes(1024 * 1024);
    expect(await chooseCompression(file, random, random.length, 'brotli')).toBe('none');
    expect(await chooseCompression(file, random, random.length, 'gzip')).toBe('none');
  });

  test('the sample spans the file: an incompressible head does not hide a compressible body', async () => {
    const mixed = Buffer.concat([randomBytes(256 * 1024), sqlLike(2 * 1024 * 1024)]);
    expect(await chooseCompression(file, mixed, mixed.length, 'brotli')).toBe('brotli');
  });

  test('small files and `none` keep the requested compression without sampling', async () => {
    const small = randomBytes(100 * 1024);
    expect(await chooseCompression(file, small, small.length, 'brotli')).toBe('brotli');
    expect(await chooseCompression(file, sqlLike(1024 * 1024), 1024 * 1024, 'none')).toBe('none');
  });
});

describe('worthCompressing (in-memory files, judged on the whole compressed result)', () => {
  test.each([
    ['SQL text', sqlLike(1024 * 1024), true],
    ['random bytes', randomBytes(1024 * 1024), false],
    ['small random bytes (always compressed)', randomBytes(100 * 1024), true],
  ])('%s', async (_, bytes, expected) => {
    const compressed = await compressBytes(bytes, 'brotli');
    expect(worthCompressing(bytes.length, compressed.length)).toBe(expected);
  });

  test('the threshold is a 10% saving', () => {
    expect(worthCompressing(1_000_000, 900_000)).toBe(true);
    expect(worthCompressing(1_000_000, 900_001)).toBe(false);
  });
});
