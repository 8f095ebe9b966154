import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatorSource, validatorTargets } from './validators/generate.js';

const root = join(import.meta.dirname, '..');

describe('generated JSON-schema validators', () => {
  it.each(validatorTargets().map((target) => [target.dir, target] as const))('%s matches its schemas (else run `pnpm generate-validators`)', (dir, target) => {
    const { js, dts } = validatorSource(target.schemas);
    expect(readFileSync(join(root, dir, 'validators.js'), 'utf8')).toBe(js);
    expect(readFileSync(join(root, dir, 'validators.d.ts'), 'utf8')).toBe(dts);
  });

  it('would notice a schema change that was not regenerated', () => {
    const [target] = validatorTargets();
    const [name, schema] = Object.entries(target!.schemas)[0]!;
    const changed = { ...target!.schemas, [name]: { ...schema, minProperties: 1 } };
    expect(validatorSource(changed).js).not.toBe(readFileSync(join(root, target!.dir, 'validators.js'), 'utf8'));
  });

  it('turns Ajv runtime helpers into imports (the packages are ESM)', () => {
    const { js } = validatorSource({ named: { type: 'string', minLength: 1 } });
    expect(js).toMatch(/^import func\d+Module from "ajv\/dist\/runtime\/ucs2length\.js";$/m);
    expect(js).not.toMatch(/\brequire\(/);
  });
});
