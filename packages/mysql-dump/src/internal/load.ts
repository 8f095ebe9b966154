import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { escapeId } from 'sql-escaper';
import type { PoolConnection } from 'mysql2/promise';
import { describeServerError, isPrivilegeError, openSession, type EngineInfo, type Session } from './connect.js';
import { DumpFileError, MysqlDumpError, RefusedStatementError, TargetNotEmptyError } from './errors.js';
import { Refusal } from './sql-lexer.js';
import { StatementAllowlist } from './statement-allowlist.js';
import { StatementRunner } from './statement-runner.js';
import { refuseSystemDatabases } from './system-databases.js';
import { StatementSplitter, type ScriptStatement } from './statement-splitter.js';

export interface LoadMysqlOptions {
  url: string;
  /** Dump set directory: loads every `mysql/<db>.sql` in it. */
  dir?: string;
  /** Or explicit `.sql` files; the database is the file stem. */
  files?: string[];
  /** New name for each database (`{ old: new }`), or one name when a single database is loaded. */
  databaseRename?: Record<string, string> | string;
  /** Drop and recreate target databases that already hold objects (otherwise they are refused). */
  replace?: boolean;
  /** Connections used to run independent statements (CREATE TABLE, INSERT) in parallel (default 4). */
  concurrency?: number;
  wait?: number;
  onProgress?: (progress: LoadProgress) => void;
  /** Aborting stops the load before its next statement and leaves each target as it found it (absent or empty; with replace, a dropped target is left empty). */
  signal?: AbortSignal;
  /**
   * Called with a target database before the load changes it: `drop` just before replace drops it, `load`
   * once it is about to be loaded into (after a drop that succeeded). A target named only with `drop` may be
   * partly dropped (the drop failed); one never named was left as it was, old content included.
   */
  onTarget?: (database: string, step: 'drop' | 'load') => void;
  /**
   * Files of up to this many characters (default 32 Mi) are kept in memory as the statements the allowlist
   * checked, and loaded from there; bigger ones are read again and each statement checked again as it runs.
   */
  keepCheckedChars?: number;
}

export interface LoadProgress {
  database: string;
  bytesDone: number;
  bytesTotal: number;
  statements: number;
}

export interface LoadMysqlResult {
  /** The server loaded into (flavour and version), e.g. to compare with the one that wrote the dump. */
  engine: EngineInfo;
  databases: { database: string; file: string; statements: number; bytes: number }[];
}

async function dumpFiles(options: LoadMysqlOptions): Promise<string[]> {
  if (options.files) return options.files;
  if (!options.dir) throw new DumpFileError('nothing to load: pass a dump directory or .sql files');
  const folder = join(options.dir, 'mysql');
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    throw new DumpFileError(`no mysql/ folder in dump directory ${options.dir}`);
  }
  const files = names.filter((n) => n.endsWith('.sql')).sort().map((n) => join(folder, n));
  if (files.length === 0) throw new DumpFileError(`no .sql files in ${folder}`);
  return files;
}

function targetName(file: string, rename: LoadMysqlOptions['databaseRename'], count: number): string {
  const stem = basename(file, '.sql');
  if (typeof rename === 'string') {
    if (count !== 1) throw new DumpFileError(`a single target name was given for ${count} databases; give each database its own target name`);
    return rename;
  }
  return rename?.[stem] ?? stem;
}

/** Objects in `database` (null: it does not exist), and the server's packet limit, in one round trip. */
async function inspectTarget(session: Session, database: string): Promise<{ objects: number | null; maxPacket: number }> {
  const [rows] = await session.pool.query(
    `SELECT (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?) AS present,
            (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?)
          + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?)
          + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?) AS objects,
            @@max_allowed_packet AS max_packet`,
    [database, database, database, database],
  );
  const row = (rows as { present: number | string; objects: number | string; max_packet: number | string }[])[0]!;
  return { objects: Number(row.present) === 0 ? null : Number(row.objects), maxPacket: Number(row.max_packet) };
}

/** The first 80 characters of a statement, on one line, for messages. */
const excerpt = (text: string) => {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
};

/** Checks one statement against the file's allowlist; a refusal names the file, the line and the statement. */
export function allowStatement(allowlist: StatementAllowlist, statement: ScriptStatement, file: string): void {
  try {
    allowlist.check(statement.text);
  } catch (error) {
    if (error instanceof Refusal) throw new RefusedStatementError(file, statement.line, excerpt(statement.text), error.reason);
    throw error;
  }
}

/** Files up to this many characters are kept as checked statements between the check and the load. */
const KEEP_CHECKED_CHARS = 32 << 20;

/**
 * Reads a whole dump file through the splitter and the allowlist (statement-allowlist.ts) without running
 * anything: a file with one statement that dumpMysql never writes is refused before any file is loaded.
 * Returns the checked statements when the file is small enough to keep (the load then runs exactly
 * those, without reading and checking the file again), else undefined.
 */
export async function verifyDumpFile(file: string, keepChars = KEEP_CHECKED_CHARS): Promise<ScriptStatement[] | undefined> {
  const allowlist = new StatementAllowlist();
  const splitter = new StatementSplitter();
  let kept: ScriptStatement[] | undefined = [];
  let chars = 0;
  const check = (list: ScriptStatement[]) => {
    for (const statement of list) {
      allowStatement(allowlist, statement, file);
      chars += statement.text.length;
      if (chars > keepChars) kept = undefined;
      kept?.push(statement);
    }
  };
  try {
    for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) check(splitter.push(chunk as string));
    check(splitter.end());
    return kept;
  } catch (error) {
    if (error instanceof MysqlDumpError) throw error;
    if (error instanceof SyntaxError) throw new DumpFileError(`${basename(file)}: ${error.message}`);
    throw new DumpFileError(`cannot read dump file ${file}`, { cause: error });
  }
}

/**
 * Loads dump files into databases. Every file is first read whole and every statement checked against the
 * allowlist of what dumpMysql writes (nothing runs if one is refused); every target is checked before
 * anything is loaded; each file is then streamed through the statement splitter and run by a
 * StatementRunner: multi-statement batches, tables and rows over several connections, everything else in
 * file order. A failed load leaves the target as it found it (absent or empty; one replace dropped, empty), so
 * no half-loaded database is left behind.
 */
export async function loadMysql(options: LoadMysqlOptions): Promise<LoadMysqlResult> {
  const files = await dumpFiles(options);
  const plan = files.map((file) => ({ file, database: targetName(file, options.databaseRename, files.length) }));
  // Before connecting: a load may drop its target (replace, or undoing a failed load).
  refuseSystemDatabases(plan.map(({ database }) => database));
  // A dump set that holds anything but what dumpMysql writes loads nothing: every file is checked while
  // the pool connects and the targets are inspected (read only), and before anything is created or dropped.
  const verifying = (async () => {
    const checked = new Map<string, ScriptStatement[] | undefined>();
    for (const { file } of plan) checked.set(file, await verifyDumpFile(file, options.keepCheckedChars));
    return checked;
  })();
  verifying.catch(() => undefined);
  // One pool for the checks and every file: its connections are switched to each target with USE.
  const session = await openSession({ url: options.url, connections: Math.max(1, options.concurrency ?? 4), wait: options.wait, multipleStatements: true, signal: options.signal }).catch(
    async (error: unknown) => {
      await verifying; // a refused file is the first thing to fix
      throw error;
    },
  );
  const result: LoadMysqlResult = { engine: session.engine, databases: [] };
  try {
    const sizes = new Map<string, number>();
    const existed = new Set<string>();
    const nonEmpty = new Set<string>();
    let maxPacket = 0;
    for (const { file, database } of plan) {
      sizes.set(file, (await stat(file).catch(() => {
        throw new DumpFileError(`cannot read dump file ${file}`);
      })).size);
      const target = await inspectTarget(session, database);
      maxPacket = target.maxPacket;
      if (target.objects !== null && target.objects > 0 && !options.replace) throw new TargetNotEmptyError(database, target.objects);
      if (target.objects !== null) existed.add(database);
      if (target.objects) nonEmpty.add(database);
    }
    const checked = await verifying;
    options.signal?.throwIfAborted();
    for (const { file, database } of plan) {
      const name = escapeId(database, true);
      // replace removes objects: an empty target is used as it is (as `mysql db < file` would), saving two DDL round trips.
      if (options.replace && nonEmpty.has(database)) {
        options.onTarget?.(database, 'drop');
        await session.pool.query(`DROP DATABASE IF EXISTS ${name}`);
      }
      options.onTarget?.(database, 'load');
      await session.pool.query(`CREATE DATABASE IF NOT EXISTS ${name}`);
      try {
        const loaded = await loadFile(options, session, file, database, sizes.get(file)!, maxPacket, checked.get(file));
        result.databases.push({ database, file, ...loaded });
      } catch (error) {
        // Leave the target as it was before the load started: absent, or empty.
        await session.pool.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined);
        if (existed.has(database)) await session.pool.query(`CREATE DATABASE ${name}`).catch(() => undefined);
        throw error;
      }
    }
  } catch (error) {
    // An abort is the caller's own reason, passed on as it is (each target was already restored).
    if (options.signal?.aborted && error === options.signal.reason) throw error;
    throw describeServerError(error, session.url, { operation: 'loading' });
  } finally {
    await session.close();
  }
  return result;
}

async function loadFile(
  options: LoadMysqlOptions,
  session: Session,
  file: string,
  database: string,
  bytesTotal: number,
  maxPacket: number,
  checkedStatements: ScriptStatement[] | undefined,
) {
  const connections = Math.max(1, options.concurrency ?? 4);
  let conns: PoolConnection[] = [];
  try {
    // Leave headroom under the server's packet limit; bigger batches stop paying off beyond a few MiB.
    const batchLimit = Math.max(64 * 1024, Math.min(4 << 20, Math.floor(maxPacket / 2)));
    conns = await Promise.all(Array.from({ length: connections }, () => session.pool.getConnection()));
    const runner = new StatementRunner(conns, batchLimit, (error, sent) => {
      if (error instanceof MysqlDumpError) return error;
      if (isPrivilegeError(error)) return describeServerError(error, session.url, { operation: `loading ${basename(file)}` });
      return statementFailure(error, sent, basename(file), database);
    }, [`USE ${escapeId(database, true)}`]);
    let statements = 0;
    // Streamed (a file too big to keep): checked again as it runs, the file could have changed since
    // verifyDumpFile read it. Kept statements were checked and are run as they are.
    const allowlist = checkedStatements ? undefined : new StatementAllowlist();
    const take = async (list: ScriptStatement[]) => {
      for (const statement of list) {
        options.signal?.throwIfAborted();
        if (allowlist) allowStatement(allowlist, statement, file);
        await runner.add(statement);
        statements++;
      }
    };
    try {
      if (checkedStatements) {
        await take(checkedStatements);
        await runner.finish();
        options.onProgress?.({ database, bytesDone: bytesTotal, bytesTotal, statements });
        return { statements, bytes: bytesTotal };
      }
      const splitter = new StatementSplitter();
      const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
      for await (const chunk of stream) {
        await take(splitter.push(chunk as string));
        options.onProgress?.({ database, bytesDone: stream.bytesRead, bytesTotal, statements });
      }
      await take(splitter.end());
      await runner.finish();
      options.onProgress?.({ database, bytesDone: bytesTotal, bytesTotal, statements });
      return { statements, bytes: bytesTotal };
    } catch (error) {
      await runner.finish().catch(() => undefined);
      if (error instanceof SyntaxError) throw new DumpFileError(`${basename(file)}: ${error.message}`);
      throw error;
    }
  } finally {
    // The file changed these connections' session settings: close them rather than hand them to the next file.
    for (const conn of conns) conn.destroy();
  }
}

/**
 * ER_BINLOG_UNSAFE_ROUTINE: with binary logging on (MySQL 8's default, also in its docker image), the server
 * refuses a function declared neither DETERMINISTIC, NO SQL nor READS SQL DATA, for every user. The dump is
 * fine; the target server's setting decides.
 */
const BINLOG_UNSAFE_ROUTINE = 1418;

/** The error for a statement of `fileName` that failed while loading into `database`: where, what, and what to do. */
export function statementFailure(error: unknown, sent: { line: number }[], fileName: string, database: string): DumpFileError {
  const first = sent[0]!.line;
  const last = sent[sent.length - 1]!.line;
  const where = first === last ? `the statement at line ${first}` : `a statement between lines ${first} and ${last}`;
  const hint =
    (error as { errno?: number }).errno === BINLOG_UNSAFE_ROUTINE
      ? '; the target server has binary logging on and refuses functions not declared DETERMINISTIC, NO SQL or READS SQL DATA: ' +
        'start it with --log-bin-trust-function-creators=1 (or run SET GLOBAL log_bin_trust_function_creators = 1), or with binary logging off (--skip-log-bin)'
      : '';
  return new DumpFileError(`${fileName}: ${where} failed: ${(error as Error).message}${hint}; nothing of the load was kept in \`${database}\``, { cause: error });
}
