import type * as MongoDriver from 'mongodb';

/**
 * The MongoDB driver, imported on first connect rather than with this package: it takes ~50 ms to load,
 * which callers that only use the errors, the URL helpers or a dump directory should not pay (bundles
 * turn this import into a chunk loaded when it runs; the module cache makes later calls cheap). A bundle's
 * chunk of a CommonJS module exports only `default` (its module.exports); Node's import names them too.
 */
export const mongoDriver = (): Promise<typeof MongoDriver> =>
  import('mongodb').then((mod) => (mod as { default?: typeof MongoDriver }).default ?? mod);
