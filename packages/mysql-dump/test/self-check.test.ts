import { describe, expect, it } from 'vitest';
import type { DatabaseObjects, StoredProgram } from '../src/internal/ddl-reader.js';
import { UnportableObjectError } from '../src/internal/errors.js';
import { refuseUnloadable } from '../src/internal/self-check.js';

const empty: DatabaseObjects = { charset: 'utf8mb4', collation: 'utf8mb4_general_ci', tables: [], views: [], routines: [], triggers: [], events: [] };
const program = (name: string, ddl: string, over: Partial<StoredProgram> = {}): StoredProgram => ({
  name, ddl, sqlMode: 'NO_ENGINE_SUBSTITUTION', characterSetClient: 'utf8mb4', collationConnection: 'utf8mb4_general_ci', ...over,
});

describe('refuseUnloadable: a dump never writes what its load refuses', () => {
  it('accepts ordinary objects', () => {
    expect(() =>
      refuseUnloadable({ ...empty, tables: [{ name: 't', ddl: 'CREATE TABLE `t` (\n  `id` int NOT NULL\n) ENGINE=InnoDB' }], routines: [program('p', 'CREATE PROCEDURE `p`()\nSELECT 1 -- note')] }, 'shop'),
    ).not.toThrow();
  });

  it.each<[string, string, Partial<DatabaseObjects>, RegExp]>([
    ['table', 'fed', { tables: [{ name: 'fed', ddl: "CREATE TABLE `fed` (\n  `id` int\n) ENGINE=FEDERATED CONNECTION='mysql://u@h/db/t'" }] }, /storage engine FEDERATED/],
    ['table', 'far', { tables: [{ name: 'far', ddl: "CREATE TABLE `far` (\n  `id` int\n) ENGINE=InnoDB DATA DIRECTORY='/srv/x/'" }] }, /DATA\/INDEX DIRECTORY/],
    ['routine', 'p_swe7', { routines: [program('p_swe7', 'CREATE PROCEDURE `p_swe7`()\nSELECT 1', { characterSetClient: 'swe7', collationConnection: 'swe7_swedish_ci' })] }, /character_set_client/],
    ['routine', 'p_hidden', { routines: [program('p_hidden', 'CREATE PROCEDURE `p_hidden`()\nBEGIN /*!50000 SELECT 1; */ END')] }, /executable comment/],
  ])('refuses a %s `%s`, naming it', (what, name, objects, reason) => {
    const check = () => refuseUnloadable({ ...empty, ...objects }, 'shop');
    expect(check).toThrow(UnportableObjectError);
    expect(check).toThrow(new RegExp(`^${what} \`${name}\` in \`shop\` cannot be dumped so that a load accepts it: its definition contains .*${reason.source}`));
  });
});
