// `default`: mysql2 is CommonJS, and a bundle's chunk of it exports only its module.exports, as `default`.
const importDriver = () => import('mysql2').then((mod) => mod.default);

let loading: ReturnType<typeof importDriver> | undefined;

/**
 * mysql2, imported on first connect rather than with this package: it takes ~30 ms to load, which callers
 * that only use the errors, URLs or schema diffs should not pay (bundles turn this import into a chunk
 * loaded when it runs). Escaping comes from sql-escaper, the module mysql2 itself escapes with.
 */
export function mysqlDriver(): ReturnType<typeof importDriver> {
  // A failed import is not kept: the next connect tries again.
  return (loading ??= importDriver().catch((error: unknown) => {
    loading = undefined;
    throw error;
  }));
}
