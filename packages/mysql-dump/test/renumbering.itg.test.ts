import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServices } from '../../../test/support/services.js';
import { DJANGO_RENUMBER_RULES, dumpMysql, loadMysql, type RenumberRule } from '../src/index.js';
import { TestDatabases, mysqlUrl, readText, tempDir } from './helpers/test-databases.js';

const DJANGO_TABLES = `
CREATE TABLE django_content_type (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, app_label VARCHAR(100) NOT NULL, model VARCHAR(100) NOT NULL,
  UNIQUE KEY django_content_type_app_label_model (app_label, model));
CREATE TABLE auth_permission (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL, content_type_id INT NOT NULL, codename VARCHAR(100) NOT NULL,
  UNIQUE KEY auth_permission_ct_codename (content_type_id, codename),
  CONSTRAINT auth_permission_ct_fk FOREIGN KEY (content_type_id) REFERENCES django_content_type (id));
CREATE TABLE django_migrations (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, app VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, applied DATETIME(6) NOT NULL);
CREATE TABLE auth_group (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(150) NOT NULL UNIQUE);
CREATE TABLE auth_group_permissions (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, group_id INT NOT NULL, permission_id INT NOT NULL,
  UNIQUE KEY agp_uniq (group_id, permission_id),
  CONSTRAINT agp_group_fk FOREIGN KEY (group_id) REFERENCES auth_group (id),
  CONSTRAINT agp_perm_fk FOREIGN KEY (permission_id) REFERENCES auth_permission (id));
CREATE TABLE django_site (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, domain VARCHAR(100) NOT NULL, name VARCHAR(50) NOT NULL);
INSERT INTO django_site VALUES (1, 'example.com', 'example.com');
INSERT INTO auth_group (id, name) VALUES (1, 'staff');
`;

/** Migrations and content types as an incrementally migrated database accumulates them over time. */
const INCREMENTAL = `
INSERT INTO django_migrations (app, name, applied) VALUES ('contenttypes', '0001_initial', '2019-01-01 10:00:00');
INSERT INTO django_content_type (app_label, model) VALUES ('shop', 'order'), ('auth', 'user');
INSERT INTO auth_permission (name, content_type_id, codename) VALUES ('Can add order', 1, 'add_order'), ('Can add user', 2, 'add_user');
INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0001_initial', '2019-02-01 10:00:00');
INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0001_initial', '2020-03-01 10:00:00');
INSERT INTO django_content_type (app_label, model) VALUES ('shop', 'basket');
INSERT INTO auth_permission (name, content_type_id, codename) VALUES ('Can add basket', 3, 'add_basket'), ('Can view order', 1, 'view_order');
INSERT INTO django_migrations (app, name, applied) VALUES ('shop', '0002_basket', '2021-04-01 10:00:00');
INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (1, 4), (1, 3);
`;

/** The same end state, migrated from scratch in one go: other ids, other applied times. */
const SCRATCH = `
INSERT INTO django_migrations (app, name, applied) VALUES
  ('auth', '0001_initial', '2024-06-01 00:00:01'), ('contenttypes', '0001_initial', '2024-06-01 00:00:00'),
  ('shop', '0001_initial', '2024-06-01 00:00:02'), ('shop', '0002_basket', '2024-06-01 00:00:03');
INSERT INTO django_content_type (id, app_label, model) VALUES (7, 'auth', 'user'), (8, 'shop', 'basket'), (9, 'shop', 'order');
INSERT INTO auth_permission (id, name, content_type_id, codename) VALUES
  (20, 'Can add user', 7, 'add_user'), (21, 'Can add basket', 8, 'add_basket'), (22, 'Can add order', 9, 'add_order'), (23, 'Can view order', 9, 'view_order');
INSERT INTO auth_group_permissions (id, group_id, permission_id) VALUES (5, 1, 21), (6, 1, 23);
`;

const DATA_TABLES = ['django_migrations', 'django_content_type', 'auth_permission', 'django_site', 'auth_group', 'auth_group_permissions'];

describeWithServices(['mysql'], 'renumbering creation-order ids by natural key', () => {
  const dbs = new TestDatabases();
  let incremental: string;
  let scratch: string;
  beforeAll(async () => {
    incremental = await dbs.create('inc');
    scratch = await dbs.create('scratch');
    await dbs.run(incremental, DJANGO_TABLES + INCREMENTAL);
    await dbs.run(scratch, DJANGO_TABLES + SCRATCH);
  });
  afterAll(() => dbs.dropAll());

  // The many-to-many table has its own creation-order id: renumber it too, by the pair it links.
  const RULES: RenumberRule[] = [...DJANGO_RENUMBER_RULES, { table: 'auth_group_permissions', id: 'id', naturalKey: ['group_id', 'permission_id'] }];
  const dump = async (db: string, dataTables?: string[], renumber?: RenumberRule[]) => {
    const out = await tempDir('renum');
    await dumpMysql({ url: mysqlUrl(), databases: [db], dataTables, renumber, outDir: out });
    return { out, sql: await readText(join(out, 'mysql', `${db}.sql`)) };
  };

  it('dumps an incrementally migrated and a from-scratch database to the same bytes', async () => {
    const a = await dump(incremental, DATA_TABLES, RULES);
    const b = await dump(scratch, DATA_TABLES, RULES);
    expect(a.sql).toBe(b.sql);
    expect(a.sql).toContain("(1,'auth','user'),\n(2,'shop','basket'),\n(3,'shop','order')");
    expect(a.sql).toContain("(1,'auth','0001_initial','2000-01-01 00:00:00')");
    // The group's permissions point at the renumbered permission ids of basket/add and order/view.
    expect(a.sql).toMatch(/INSERT INTO `auth_group_permissions` \(`id`, `group_id`, `permission_id`\) VALUES\n\(1,1,2\),\n\(2,1,4\);/);
  });

  it('keeps every rewritten foreign key pointing at the same natural key after a load', async () => {
    const { out } = await dump(incremental, DATA_TABLES, RULES);
    const copy = dbs.name('renum_copy');
    await loadMysql({ url: mysqlUrl(), dir: out, databaseRename: copy });
    const [rows] = await (await dbs.admin()).query(
      `SELECT ct.app_label, ct.model, p.codename FROM \`${copy}\`.auth_group_permissions gp
         JOIN \`${copy}\`.auth_permission p ON p.id = gp.permission_id JOIN \`${copy}\`.django_content_type ct ON ct.id = p.content_type_id
        ORDER BY p.codename`,
    );
    expect(rows).toEqual([
      { app_label: 'shop', model: 'basket', codename: 'add_basket' },
      { app_label: 'shop', model: 'order', codename: 'view_order' },
    ]);
  });

  it('without a rule for it, a dumped table keeps its own ids but its foreign keys are still rewritten', async () => {
    const { sql } = await dump(scratch, DATA_TABLES);
    expect(sql).toContain('VALUES\n(5,1,2),\n(6,1,4);');
  });

  it('with the default data tables also matches across both databases', async () => {
    const a = await dump(incremental);
    const b = await dump(scratch);
    expect(a.sql).toBe(b.sql);
    expect(a.sql).not.toContain('INSERT INTO `auth_group_permissions`');
  });
});
