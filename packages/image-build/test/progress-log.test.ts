import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { parseRawJson, ProgressLog } from '../src/index.js';

const stream = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures/rawjson', `${name}.rawjson`), 'utf8');
const logOf = (name: string) => {
  const lines: string[] = [];
  const log = new ProgressLog((line) => lines.push(line));
  for (const status of parseRawJson(stream(name)).statuses) log.status(status);
  return lines;
};

test('a warm build reads like --progress=plain: each step once, then CACHED', () => {
  const lines = logOf('warm');
  const step = lines.find((l) => /^#\d+ \[\w+ \w+ \d+\/\d+\] RUN /.test(l));
  expect(step).toBeDefined();
  const number = step?.split(' ')[0];
  expect(lines.filter((l) => l.startsWith(`${number} `))).toEqual([step, `${number} CACHED`]);
});

test('a failed build shows the RUN output and the error of the failing step', () => {
  const lines = logOf('failed');
  expect(lines.some((l) => /^#\d+ ERROR: process .* did not complete successfully: exit code: 1$/.test(l))).toBe(true);
  expect(lines.filter((l) => / DONE \d+\.\ds$/.test(l)).length).toBeGreaterThan(0);
});

test('log lines of a running step are printed with its number', () => {
  const log: string[] = [];
  const progress = new ProgressLog((line) => log.push(line));
  progress.status({ vertexes: [{ digest: 'v1', name: '[base 2/2] RUN make', started: '2024-01-01T00:00:00Z' }] });
  progress.status({ logs: [{ vertex: 'v1', data: Buffer.from('compiling\nlinking\n').toString('base64') }] });
  progress.status({ vertexes: [{ digest: 'v1', name: '[base 2/2] RUN make', started: '2024-01-01T00:00:00Z', completed: '2024-01-01T00:00:02.5Z' }] });
  expect(log).toEqual(['#1 [base 2/2] RUN make', '#1 compiling', '#1 linking', '#1 DONE 2.5s']);
});

test('a vertex BuildKit cancelled reads CANCELED, as buildx prints it, not ERROR (fixtures/rawjson/secret-shared)', () => {
  const lines = logOf('secret-shared/succeeded');
  const cancelled = lines.filter((l) => / CANCELED$/.test(l));
  expect(cancelled).toHaveLength(1);
  const number = cancelled[0]?.split(' ')[0];
  expect(lines.find((l) => l.startsWith(`${number} [`))).toMatch(/\] RUN --mount=type=secret,id=token /);
  expect(lines.filter((l) => /ERROR/.test(l))).toEqual([]);
});
