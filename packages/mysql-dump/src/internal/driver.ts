/**
 * mysql2, imported on first connect rather than with this package: it takes ~30 ms to load, which callers
 * that only use the errors, URLs or schema diffs should not pay (bundles turn this import into a chunk
 * loaded when it runs; the module cache makes later calls cheap). `default`: mysql2 is CommonJS, and a
 * bundle's chunk of it exports only its module.exports, as `default`. Escaping comes from sql-escaper, the
 * module mysql2 itself escapes with.
 */
export const mysqlDriver = () => import('mysql2').then((mod) => mod.default);
