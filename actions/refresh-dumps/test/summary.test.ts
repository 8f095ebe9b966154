import * as core from '@actions/core';
import { beforeEach, describe, expect, test } from 'vitest';
import { SUMMARY_SCHEMA_LIMIT, addRefreshSummary, clipSchemaLines, formatBytes, formatDuration, readSummaryData, rowLines, type RefreshReport } from '../src/summary.js';

const commit = '1'.repeat(40);
const version = 'a'.repeat(64);
const previous = { commit: '2'.repeat(40), version: 'b'.repeat(64) };

const report = (overrides: Partial<RefreshReport> = {}): RefreshReport => ({
  service: 'lms',
  commit,
  branch: 'master',
  store: 's3://dumps/devstack',
  dryRun: false,
  version,
  changed: true,
  manifest: `s3://dumps/devstack/lms/versions/${version}.json`,
  mode: 'incremental',
  reason: '1 migration added since 222222222222 (1 commit back): catalog.0004_product_weight',
  firstAttempt: undefined,
  phases: [
    { name: 'migrate', startMs: 700, ms: 2130 },
    { name: 'wait for servers', startMs: 600, ms: 80 },
    { name: 'fingerprint migrations', startMs: 601, ms: 20 },
    { name: 'dump', startMs: 2830, ms: 107 },
  ],
  totalMs: 3000,
  files: [
    { path: 'mysql/lms.sql', size: 40_000 },
    { path: 'mysql/lms.schema.json', size: 5_000 },
    { path: 'mongo/lms/events.bson', size: 0 },
    { path: 'mongo/lms/events.metadata.json', size: 300 },
  ],
  uploads: { blobs: 2, bytes: 45_000 },
  ref: { outcome: 'advanced', previous, reason: undefined },
  retention: undefined,
  schema: { kind: 'changes', base: previous, mysql: ['~ table catalog_product', '  + column weight_grams'], mongo: [], files: ['mysql/lms.schema.json', 'mysql/lms.sql'] },
  ...overrides,
});

const render = (overrides: Partial<RefreshReport> = {}) => addRefreshSummary(report(overrides)).stringify();

beforeEach(() => {
  core.summary.emptyBuffer();
});

describe('addRefreshSummary', () => {
  test('shows version, change, ref move, mode and reason', () => {
    const html = render();
    expect(html).toContain('<h2>refresh-dumps: lms @ 111111111111</h2>');
    expect(html).toContain(`<code>${version}</code> <strong>changed</strong>`);
    expect(html).toContain('advanced to <code>111111111111</code> (was <code>222222222222</code>)');
    expect(html).toContain('<td>incremental: 1 migration added since 222222222222 (1 commit back): catalog.0004_product_weight</td>');
    expect(html).toContain(`<code>s3://dumps/devstack/lms/versions/${version}.json</code>`);
  });

  test('lists the phases in start order, overlapping ones with their start, and the wall-time total', () => {
    const html = render();
    expect(html).toContain(
      '<tr><th>Phase</th><th>Started</th><th>Duration</th></tr>' +
        '<tr><td>start-up (loading the action)</td><td>0 ms</td><td>600 ms</td></tr>' +
        '<tr><td>wait for servers</td><td>600 ms</td><td>80 ms</td></tr>' +
        '<tr><td>fingerprint migrations</td><td>601 ms</td><td>20 ms</td></tr>' +
        '<tr><td>migrate</td><td>700 ms</td><td>2.13 s</td></tr>' +
        '<tr><td>dump</td><td>2.83 s</td><td>107 ms</td></tr>' +
        '<tr><td colspan="2"><strong>total</strong></td><td>3.00 s</td></tr>',
    );
  });

  test('sums sizes per engine', () => {
    const html = render();
    expect(html).toContain('<tr><td>mongo</td><td>2</td><td>300 B</td></tr><tr><td>mysql</td><td>2</td><td>43.9 KiB</td></tr><tr><td><strong>total</strong></td><td>4</td><td>44.2 KiB</td></tr>');
    expect(html).toContain('Uploaded 2 new file(s), 43.9 KiB.');
  });

  test('a schema diff of a collation change over 1000 tables stays far below GitHub\'s 1 MiB summary limit', () => {
    const mysql = Array.from({ length: 1000 }, (_, t) => [`~ table t${t}`, ...Array.from({ length: 15 }, (_, c) => `  ~ column c${c}: collation null -> "utf8mb4_unicode_ci"`)]).flat();
    const html = render({ schema: { kind: 'changes', base: previous, mysql, mongo: ['+ index a_1 on lms.events'], files: ['mysql/lms.sql'] } });
    expect(Buffer.byteLength(html)).toBeLessThan(128 * 1024);
    expect(html).toContain('~ table t0\n  ~ column c0: collation null -&gt; &quot;utf8mb4_unicode_ci&quot;');
    expect(html).toContain(`… and ${mysql.length - SUMMARY_SCHEMA_LIMIT.lines} more line(s), not shown here`);
    // The other engine's changes are still shown, whole.
    expect(html).toContain('<p><strong>MongoDB</strong></p>\n<pre><code>+ index a_1 on lms.events</code></pre>');
  });

  test.each([
    ['fewer lines than the limit: all', 3, { lines: 5, bytes: 1000 }, 3, 0],
    ['more lines than the limit: the first ones', 10, { lines: 4, bytes: 1000 }, 4, 6],
    ['long lines: cut by bytes first (13 bytes a line with its newline)', 10, { lines: 100, bytes: 26 }, 2, 8],
  ])('clipSchemaLines, %s', (_what, count, limit, shown, omitted) => {
    const lines = Array.from({ length: count }, (_, i) => `+ table t${i}_x`);
    const clipped = clipSchemaLines(lines, limit);
    expect(clipped.shown).toEqual(lines.slice(0, shown));
    expect(clipped.omitted).toBe(omitted);
  });

  test('keeps the nesting of schema changes in a code block', () => {
    const html = render();
    expect(html).toContain('Compared with version <code>bbbbbbbbbbbb</code> (commit <code>222222222222</code>)');
    expect(html).toContain('<p><strong>MySQL</strong></p>\n<pre><code>~ table catalog_product\n  + column weight_grams</code></pre>');
    expect(html).not.toContain('<strong>MongoDB</strong>');
  });

  test.each<[string, Partial<RefreshReport>, string[]]>([
    [
      're-run of the same commit',
      { changed: false, uploads: { blobs: 0, bytes: 0 }, ref: { outcome: 'unchanged', previous: { commit, version }, reason: undefined }, schema: { kind: 'same', base: { commit, version } } },
      ['unchanged', 'already at <code>111111111111</code>', 'No file uploaded (every blob was already in the store).', 'Same schema as version <code>aaaaaaaaaaaa</code>'],
    ],
    [
      'an older commit finishing last',
      {
        ref: { outcome: 'not-advanced', previous: { commit: '3'.repeat(40), version }, reason: 'it already names a newer commit' },
      },
      ['<strong>left alone</strong> at <code>333333333333</code>: it already names a newer commit</td>'],
    ],
    ['the first publish', { ref: { outcome: 'created', previous: undefined, reason: undefined }, schema: { kind: 'first' } }, ['created at <code>111111111111</code>', 'First dump of this branch']],
    [
      'a dry run',
      { dryRun: true, manifest: undefined, uploads: undefined, ref: undefined, schema: { kind: 'skipped', why: 'dry run: the new version is not in the store to compare with' } },
      ['(dry run)</h2>', 'dry run: nothing was published', 'Not compared: dry run: the new version is not in the store to compare with.'],
    ],
    [
      'a full run redoing an incremental one',
      { mode: 'full', reason: 'the database engines changed (mysql mariadb 10.11 -> mysql 8.0)', firstAttempt: '1 migration added since 222222222222' },
      ['full: the database engines changed (mysql mariadb 10.11 -&gt; mysql 8.0) (an incremental attempt came first: 1 migration added since 222222222222)'],
    ],
    ['retention', { retention: { versions: 2, commits: 1, blobs: 5, bytes: 2048 } }, ['Retention removed 2 version(s), 1 commit entry and 5 blob(s) (2.00 KiB).']],
    [
      'a retention failure after the publish',
      { retentionFailure: new Error('Applying retention failed (check input `keep`): Access Denied <DeleteObject>') },
      ['<strong>Retention failed</strong> (the version above is published): Applying retention failed (check input <code>keep</code>): Access Denied &lt;DeleteObject&gt;'],
    ],
    ['input names in a reason as code', { mode: 'full', reason: 'input `mode` is `full`' }, ['<td>full: input <code>mode</code> is <code>full</code></td>']],
    [
      'only data tables changed',
      { schema: { kind: 'changes', base: previous, mysql: [], mongo: [], files: ['mongo/lms/flags.bson', 'mysql/lms.sql'] } },
      [
        'No table, column, index, stored program or collection changed; what differs: <code>mongo/lms/flags.bson</code> (documents of a data collection), ' +
          '<code>mysql/lms.sql</code> (rows of its data tables, or the SQL of a view (views are compared by their columns))',
      ],
    ],
    ['only collection options changed', { schema: { kind: 'changes', base: previous, mysql: [], mongo: [], files: ['mongo/lms/a.metadata.json'] } }, ['<code>mongo/lms/a.metadata.json</code> (collection options)']],
    [
      'Mongo changes',
      { schema: { kind: 'changes', base: previous, mysql: [], mongo: ['+ index tracking_1 on lms.shipment_events'], files: ['mongo/lms/shipment_events.metadata.json'] } },
      ['<p><strong>MongoDB</strong></p>\n<pre><code>+ index tracking_1 on lms.shipment_events</code></pre>'],
    ],
  ])('%s', (_name, overrides, fragments) => {
    const html = render(overrides);
    for (const fragment of fragments) expect(html).toContain(fragment);
  });

  test('escapes HTML from names and messages', () => {
    const html = render({ branch: 'a<b>', schema: { kind: 'changes', base: previous, mysql: ['+ table <script>'], mongo: [], files: ['mysql/lms.sql'] } });
    expect(html).toContain('Branch a&lt;b&gt;');
    expect(html).toContain('+ table &lt;script&gt;');
    expect(html).not.toContain('<script>');
  });

  test('leaves a machine-readable line that readSummaryData reads back', () => {
    expect(readSummaryData(render())).toEqual({
      version,
      changed: true,
      mode: 'incremental',
      totalMs: 3000,
      startupMs: 600,
      phases: { 'wait for servers': 80, 'fingerprint migrations': 20, migrate: 2130, dump: 107 },
    });
    expect(readSummaryData('<h2>something else</h2>')).toBeUndefined();
  });
});

describe('formatting', () => {
  test.each<[number, string]>([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.00 KiB'],
    [45_000, '43.9 KiB'],
    [5 * 1024 * 1024, '5.00 MiB'],
    [3 * 1024 ** 4, '3.00 TiB'],
  ])('formatBytes(%d) = %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
  test.each<[number, string]>([
    [0.4, '0 ms'],
    [999, '999 ms'],
    [1500, '1.50 s'],
    [59_994, '59.99 s'],
    [125_000, '2 min 5.0 s'],
  ])('formatDuration(%d) = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('rowLines', () => {
  test.each<[string, Parameters<typeof rowLines>[0], string[]]>([
    ['schema only', { mysql: {}, mongo: {} }, []],
    [
      'both engines',
      { mysql: { 'shop.django_migrations': 12, 'shop.knex_migrations': 3 }, mongo: { 'shop.changelog': 2 } },
      ['MySQL rows dumped: shop.django_migrations (12), shop.knex_migrations (3)', 'MongoDB documents dumped: shop.changelog (2)'],
    ],
  ])('%s', (_case, rows, expected) => {
    expect(rowLines(rows)).toEqual(expected);
  });
});
