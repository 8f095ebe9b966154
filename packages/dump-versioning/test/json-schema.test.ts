import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { documentSchemas } from '../src/internal/json-schema.js';
// Importing the modules registers their schemas.
import '../src/internal/manifest.js';
import '../src/internal/migrations-record.js';

// Start-up skips the meta-schema check (see json-schema.ts), so it happens here, for every schema.
describe('document schemas', () => {
  it('registers the manifest, commit entry and ref schemas of both formats, and the migrations record', () => {
    expect(documentSchemas).toHaveLength(7);
  });

  it.each(documentSchemas.map((schema, index) => [index, schema] as const))('schema %i is valid JSON Schema and compiles in strict mode', (_index, schema) => {
    const checked = new Ajv({ strict: true, validateSchema: true });
    expect(checked.validateSchema(schema), JSON.stringify(checked.errors)).toBe(true);
    expect(() => checked.compile(schema)).not.toThrow();
  });

  it('would catch a schema mistake', () => {
    const checked = new Ajv({ strict: true, validateSchema: true });
    expect(checked.validateSchema({ type: 'object', required: 'name' })).toBe(false);
  });
});
