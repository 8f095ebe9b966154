import type { ValidateFunction } from 'ajv';
import * as generated from './generated/validators.js';

/**
 * The document schemas are constants of this code, so their validators are generated ahead of time as
 * standalone code (scripts/validators/generate.ts, Ajv's `standalone` output, strict mode and the meta-schema
 * checked there). Compiling them at run time cost ~35 ms of every process that read a manifest.
 * scripts/validators.test.ts fails when the generated file does not match these schemas.
 */

/** Every schema given to `precompiledValidator`, by export name: the generator's input and the tests'. */
export const documentSchemas: { name: string; schema: object }[] = [];

/**
 * A getter for the generated validator of `schema`. Missing only when the generated file is stale, which
 * the getter reports when first called (not at import, so the generator can still load the schemas).
 */
export function precompiledValidator<T>(name: string, schema: object): () => ValidateFunction<T> {
  documentSchemas.push({ name, schema });
  return () => {
    const validate = (generated as Record<string, ValidateFunction | undefined>)[name];
    if (!validate) throw new Error(`no generated validator "${name}"; run \`pnpm generate-validators\``);
    return validate as ValidateFunction<T>;
  };
}
