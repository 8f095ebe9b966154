import { Ajv, type ValidateFunction } from 'ajv';

/**
 * One Ajv for every document schema of this package, each schema compiled on first use. The schemas are
 * constants of this code: a unit test (json-schema.test.ts) checks each against the JSON Schema
 * meta-schema, so start-up skips that check. Compiling the meta-schema cost ~80 ms per Ajv instance here,
 * and three instances compiled eight schemas at import: about a third of the refresh-dumps action's start-up.
 * Strict mode (unknown keywords, ambiguous types) is still enforced when each schema compiles.
 */
let ajv: Ajv | undefined;
// Created with the first validator that is needed: its constructor registers every keyword (~5 ms).
const instance = () => (ajv ??= new Ajv({ allErrors: false, strict: true, validateSchema: false }));

/** Every schema given to `lazyValidator`, for the meta-schema test. */
export const documentSchemas: object[] = [];

/** A getter for the compiled validator of `schema`, compiling it the first time it is asked for. */
export function lazyValidator<T>(schema: object): () => ValidateFunction<T> {
  documentSchemas.push(schema);
  let compiled: ValidateFunction<T> | undefined;
  return () => (compiled ??= instance().compile<T>(schema));
}
