import { describe, expect, it } from 'vitest';
import { engineMismatches } from '../src/internal/engines.js';

const mysql80 = { flavor: 'mysql', version: '8.0.36' };

describe('engineMismatches', () => {
  it.each([
    ['same release', { mysql: mysql80 }, { mysql: { flavor: 'mysql', version: '8.0.36' } }, []],
    ['another patch release', { mysql: mysql80 }, { mysql: { flavor: 'mysql', version: '8.0.40' } }, []],
    ['nothing recorded', undefined, { mysql: mysql80 }, []],
    ['engine not loaded', { mysql: mysql80, mongo: { flavor: 'mongodb', version: '7.0.14' } }, { mysql: mysql80 }, []],
    ['another minor release', { mysql: mysql80 }, { mysql: { flavor: 'mysql', version: '8.4.2' } }, ['MySQL dump was made on mysql 8.0.36 and loaded into mysql 8.4.2: defaults']],
    ['another flavour', { mysql: mysql80 }, { mysql: { flavor: 'mariadb', version: '10.11.19' } }, ['MySQL dump was made on mysql 8.0.36 and loaded into mariadb 10.11.19: types']],
    [
      'both engines differ',
      { mysql: mysql80, mongo: { flavor: 'mongodb', version: '7.0.14' } },
      { mysql: { flavor: 'mariadb', version: '10.11.19' }, mongo: { flavor: 'ferretdb', version: '1.24.2' } },
      ['MySQL dump was made on mysql 8.0.36', 'MongoDB dump was made on mongodb 7.0.14 and loaded into ferretdb 1.24.2'],
    ],
  ] as const)('%s', (_name, dumped, loaded, expected) => {
    const warnings = engineMismatches(dumped, loaded);
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((fragment, i) => expect(warnings[i]).toContain(fragment));
  });

  it('names the release to run locally', () => {
    expect(engineMismatches({ mysql: mysql80 }, { mysql: { flavor: 'mariadb', version: '10.11.19' } })[0]).toMatch(/run mysql 8\.0 locally/);
  });
});
