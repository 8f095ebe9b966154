import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openStore, publish, type Store } from '../src/index.js';
import { makeDumpDir, sampleDump } from './support.js';

// A commit published again with another result (a re-run after an input changed, a server upgrade,
// a nondeterministic dump): the warning says which, as far as the store can tell.
let root: string;
let store: Store;
const dirs: string[] = [];
const dump = async (files: Record<string, string | Buffer>) => {
  const dir = await makeDumpDir(files);
  dirs.push(dir);
  return dir;
};
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'dv-replaced-'));
  store = openStore(root);
});
afterAll(async () => {
  await store.close();
  await Promise.all([root, ...dirs].map((dir) => rm(dir, { recursive: true, force: true })));
});

const mariadb = { mysql: { flavor: 'mariadb', version: '10.11.19' } };
const publishAs = async (service: string, commit: string, dir: string, engines: object | undefined = mariadb) =>
  publish({ store, service, dir, source: { commit, branch: 'master' }, ancestry: async () => true, ...(engines ? { engines } : {}) });

test.each([
  ['other databases (a file more)', { ...sampleDump('x'), 'mysql/other.sql': 'CREATE TABLE o (id int);\n', 'mysql/other.schema.json': '{"tables":["o"]}\n' }, mariadb, /its files differ \(added: mysql\/other\.schema\.json, mysql\/other\.sql; removed: none\): the databases or data inputs changed$/],
  ['the same files with other bytes', sampleDump('y'), mariadb, /the same files with other contents \(mongo\/app\/things\.bson, mongo\/app\/things\.metadata\.json, mysql\/app\.schema\.json, mysql\/app\.sql\): the dumps are not deterministic/],
  ['another server version (and so other bytes)', sampleDump('z'), { mysql: { flavor: 'mysql', version: '8.4.0' } }, /the servers changed \(before .*mariadb 10\.11\.19.*, now .*mysql 8\.4\.0.*\)$/],
  // The CLI's publish may record no servers: that is not a change of servers.
  ['other bytes, published once without servers', sampleDump('w'), undefined, /the same files with other contents/],
])('%s', async (name, files, engines, why) => {
  const service = `replaced-${name.replace(/\W+/g, '-')}`;
  const commit = 'c'.repeat(40);
  await publishAs(service, commit, await dump(sampleDump('x')));
  const again = await publishAs(service, commit, await dump(files), engines);
  const warning = again.warnings.find((w) => w.code === 'commit-version-replaced');
  expect(warning?.message).toMatch(new RegExp(`^commit ${commit} was published before as version [0-9a-f]{64} and now gives ${again.version}; `));
  expect(warning?.message).toMatch(why);
});
