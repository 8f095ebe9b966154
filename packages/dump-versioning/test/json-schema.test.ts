import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { documentSchemas } from '../src/internal/json-schema.js';
// Importing the package registers every schema its modules declare.
import '../src/index.js';

// The generator checks these too (scripts/validators/generate.ts); this keeps the check beside the schemas.
describe('document schemas', () => {
  it('registers the manifest, commit entry and ref schemas of both formats, and the migrations record', () => {
    expect(documentSchemas).toHaveLength(7);
  });

  it('names each schema once', () => {
    expect(new Set(documentSchemas.map(({ name }) => name)).size).toBe(documentSchemas.length);
  });

  it.each(documentSchemas.map(({ name, schema }) => [name, schema] as const))('%s is valid JSON Schema and compiles in strict mode', (_name, schema) => {
    const checked = new Ajv({ strict: true, validateSchema: true });
    expect(checked.validateSchema(schema), JSON.stringify(checked.errors)).toBe(true);
    expect(() => checked.compile(schema)).not.toThrow();
  });

  it('would catch a schema mistake', () => {
    const checked = new Ajv({ strict: true, validateSchema: true });
    expect(checked.validateSchema({ type: 'object', required: 'name' })).toBe(false);
  });
});
