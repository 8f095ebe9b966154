import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { checksumsSchema } from '../src/internal/layout.js';

// layout.ts compiles the schema without the meta-schema check (start-up cost); the check happens here.
describe('the checksum list schema', () => {
  it('is valid JSON Schema and compiles in strict mode', () => {
    const checked = new Ajv({ strict: true, validateSchema: true });
    expect(checked.validateSchema(checksumsSchema), JSON.stringify(checked.errors)).toBe(true);
    expect(() => checked.compile(checksumsSchema)).not.toThrow();
  });
});
