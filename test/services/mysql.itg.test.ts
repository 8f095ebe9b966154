import { randomBytes } from 'node:crypto';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { expect, it } from 'vitest';
import { describeWithServices, serviceVar } from '../support/services.js';

describeWithServices(['mysql'], 'MySQL server of the harness (TEST_MYSQL_URL)', () => {
  it('answers a query and creates, uses and drops a scratch database', async () => {
    const connection = await createConnection(serviceVar('TEST_MYSQL_URL'));
    const database = `itg_smoke_${randomBytes(4).toString('hex')}`;
    try {
      const [versionRows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
      const version = String(versionRows[0]?.['version']);
      console.log(`[services] mysql server version: ${version}`);
      expect(version).toMatch(/^\d+\.\d+\.\d+/);

      await connection.query(`CREATE DATABASE \`${database}\``);
      await connection.query(
        `CREATE TABLE \`${database}\`.items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, UNIQUE KEY by_name (name))`,
      );
      await connection.query(`INSERT INTO \`${database}\`.items (id, name) VALUES (?, ?), (?, ?)`, [1, 'one', 2, 'two']);
      const [items] = await connection.query<RowDataPacket[]>(`SELECT id, name FROM \`${database}\`.items ORDER BY id`);
      expect(items.map((row) => [row['id'], row['name']])).toEqual([
        [1, 'one'],
        [2, 'two'],
      ]);
      await expect(
        connection.query(`INSERT INTO \`${database}\`.items (id, name) VALUES (3, 'one')`),
      ).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });

      await connection.query(`DROP DATABASE \`${database}\``);
      const [left] = await connection.query<RowDataPacket[]>('SHOW DATABASES LIKE ?', [database]);
      expect(left).toHaveLength(0);
    } finally {
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.end();
    }
  });
});

describeWithServices(['oracleMysql'], 'Oracle MySQL server of the harness (TEST_ORACLE_MYSQL_URL)', () => {
  it('is Oracle MySQL, not MariaDB, and takes the caching_sha2_password login mysql2 makes', async () => {
    const connection = await createConnection(serviceVar('TEST_ORACLE_MYSQL_URL'));
    try {
      const [rows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version, @@version_comment AS comment, CURRENT_USER() AS user');
      const { version, comment } = rows[0] as { version: string; comment: string };
      console.log(`[services] oracle mysql server version: ${version} (${comment})`);
      expect(version).toMatch(/^\d+\.\d+\.\d+/);
      expect(`${version} ${comment}`).not.toMatch(/mariadb/i);
      const [plugins] = await connection.query<RowDataPacket[]>('SELECT plugin FROM mysql.user WHERE CONCAT(user, "@", host) = ?', [rows[0]!['user']]);
      expect(plugins[0]?.['plugin']).toBe('caching_sha2_password');
    } finally {
      await connection.end();
    }
  });
});
