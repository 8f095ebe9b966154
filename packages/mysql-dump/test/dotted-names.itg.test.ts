import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { dumpMysql, loadMysql } from '../src/index.js';
import { TestDatabases, mysqlUrl, readText, tempDir } from './helpers/test-databases.js';

// A `.` inside a quoted name is part of the name, not a database qualifier (MySQL allows it in table
// and column names): every name the dumper and loader quote must stay one identifier.
const SCHEMA = `
CREATE TABLE \`odd.name\` (id INT NOT NULL PRIMARY KEY, \`a.b\` INT NULL, KEY \`a.b_idx\` (\`a.b\`));
CREATE TABLE ref_codes (id INT NOT NULL PRIMARY KEY, \`code.v2\` VARCHAR(10) NOT NULL);
INSERT INTO ref_codes VALUES (2, 'b'), (1, 'a');
CREATE VIEW \`odd.view\` AS SELECT id, \`a.b\` FROM \`odd.name\`;
`;

describeWithServices(['mysql'], 'mysql dump: names containing dots', () => {
  const dbs = new TestDatabases();
  let source: string;
  beforeAll(async () => {
    source = await dbs.create('dotted');
    await dbs.run(source, SCHEMA);
  });
  afterAll(() => dbs.dropAll());

  it('dumps, loads under another name and dumps again to the same bytes', async () => {
    const first = await tempDir('dotted1');
    await dumpMysql({ url: mysqlUrl(), databases: [source], dataTables: ['ref_codes'], outDir: first });
    const sql = await readText(join(first, 'mysql', `${source}.sql`));
    expect(sql).toContain('CREATE TABLE `odd.name`');
    expect(sql).toContain("INSERT INTO `ref_codes` (`id`, `code.v2`) VALUES\n(1,'a'),\n(2,'b');\n");
    const copy = dbs.name('dotted_copy');
    await loadMysql({ url: mysqlUrl(), dir: first, databaseRename: copy });
    const again = await tempDir('dotted2');
    await dumpMysql({ url: mysqlUrl(), databases: [copy], dataTables: ['ref_codes'], outDir: again });
    expect(await readText(join(again, 'mysql', `${copy}.sql`))).toBe(sql);
  });
});
