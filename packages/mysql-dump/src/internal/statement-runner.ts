import type { PoolConnection } from 'mysql2/promise';
import type { ScriptStatement } from './statement-splitter.js';

/**
 * How a statement may be scheduled: session settings go to every connection; CREATE TABLEs (with
 * foreign-key checks off) do not depend on each other and run on any connection, and so do INSERTs, but
 * rows need their table: a run of INSERTs starts only after every CREATE TABLE before it finished (and
 * the other way round). Everything else (views, routines, triggers, events, ALTER DATABASE) runs alone,
 * after all before it and before all after it.
 */
export type StatementKind = 'setting' | 'create-table' | 'insert' | 'ordered';

export function classifyStatement(text: string): StatementKind {
  if (/^SET\s/i.test(text)) return 'setting';
  if (/^CREATE\s+TABLE\s/i.test(text)) return 'create-table';
  if (/^INSERT\s+INTO\s/i.test(text)) return 'insert';
  return 'ordered';
}

/**
 * Statements per batch, whatever their size: a schema's CREATE TABLEs fit one byte-limited batch, which
 * would run them all on one connection. Smaller batches spread them over every connection (measured on
 * 162 tables: ~270 ms over 4 connections vs ~370 ms as one batch and ~560 ms one statement per round trip).
 */
const MAX_BATCH_STATEMENTS = 16;

interface Batch {
  kind: Exclude<StatementKind, 'setting'>;
  statements: ScriptStatement[];
  /** How many session settings precede this batch in the file. */
  settingsBefore: number;
}

interface Worker {
  conn: PoolConnection;
  settingsApplied: number;
  busy: boolean;
}

/**
 * Runs a dump's statements over several connections: independent statements in multi-statement batches
 * on whichever connection is free, the rest in file order. The stock client runs one statement per round
 * trip on one connection; this keeps the server busy on every core instead.
 */
export class StatementRunner {
  private readonly workers: Worker[];
  private readonly settings: string[];
  private batch: ScriptStatement[] = [];
  private batchBytes = 0;
  private batchKind: Exclude<StatementKind, 'setting'> = 'create-table';
  /** The kind of the batches on the connections now: a batch of another kind waits for them. */
  private inflightKind: Exclude<StatementKind, 'setting' | 'ordered'> | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private failure: Error | undefined;

  constructor(
    connections: PoolConnection[],
    private readonly batchLimit: number,
    private readonly describeFailure: (error: unknown, statements: ScriptStatement[]) => Error,
    /** Statements every connection runs before its first batch (e.g. `USE db`), sent with that batch. */
    sessionSetup: string[] = [],
  ) {
    this.workers = connections.map((conn) => ({ conn, settingsApplied: 0, busy: false }));
    this.settings = [...sessionSetup];
  }

  async add(statement: ScriptStatement): Promise<void> {
    this.throwIfFailed();
    const kind = classifyStatement(statement.text);
    if (kind === 'setting') {
      await this.flush();
      this.settings.push(statement.text);
      return;
    }
    // The limit is the server's packet size: bytes, not UTF-16 code units.
    const bytes = Buffer.byteLength(statement.text);
    const full = this.batchBytes + bytes > this.batchLimit || this.batch.length >= MAX_BATCH_STATEMENTS;
    if (kind !== this.batchKind || full) await this.flush();
    this.batchKind = kind;
    this.batch.push(statement);
    this.batchBytes += bytes + 2;
    // A body that ends in a `#`/`-- ` comment would swallow the `;` joining the next statement: send it last.
    if (kind === 'ordered' && mayEndInLineComment(statement.text)) await this.flush();
  }

  /** Runs what is pending and waits for every connection; throws the first failure. */
  async finish(): Promise<void> {
    await this.flush();
    await Promise.all(this.inflight);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch: Batch = { kind: this.batchKind, statements: this.batch, settingsBefore: this.settings.length };
    this.batch = [];
    this.batchBytes = 0;
    if (this.batchKind === 'ordered') {
      await Promise.all(this.inflight);
      this.throwIfFailed();
      await this.run(this.workers[0]!, batch);
      this.throwIfFailed();
      return;
    }
    if (this.inflightKind !== this.batchKind) {
      await Promise.all(this.inflight);
      this.throwIfFailed();
      this.inflightKind = this.batchKind;
    }
    let worker = this.workers.find((w) => !w.busy);
    while (!worker) {
      await Promise.race(this.inflight);
      this.throwIfFailed();
      worker = this.workers.find((w) => !w.busy);
    }
    const running = this.run(worker, batch);
    this.inflight.add(running);
    void running.then(() => this.inflight.delete(running));
  }

  /** Never rejects: a failure is kept and rethrown by the next add/finish. */
  private async run(worker: Worker, batch: Batch): Promise<void> {
    worker.busy = true;
    try {
      const pendingSettings = this.settings.slice(worker.settingsApplied, batch.settingsBefore);
      const sql = [...pendingSettings, ...batch.statements.map((s) => s.text)].join(';\n');
      worker.settingsApplied = batch.settingsBefore;
      if (!this.failure) await worker.conn.query(sql).catch((error: unknown) => (batch.kind === 'create-table' && isLockConflict(error) ? createMissingTables(worker.conn, batch.statements, error) : Promise.reject(error)));
    } catch (error) {
      this.failure ??= this.describeFailure(error, batch.statements);
    } finally {
      worker.busy = false;
    }
  }
}

/** Whether the last line of `text` may be a line comment (conservative: `#` or `--` anywhere in it). */
const mayEndInLineComment = (text: string) => /#|--/.test(text.slice(text.lastIndexOf('\n') + 1));

/** ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT: the server gave up on a lock; running the statement again can succeed. */
const LOCK_CONFLICT_ERRNOS = new Set([1213, 1205]);
const LOCK_RETRIES = 5;

function isLockConflict(error: unknown): boolean {
  return LOCK_CONFLICT_ERRNOS.has((error as { errno?: number }).errno ?? 0);
}

/** The table a `CREATE TABLE` statement creates in the current database; undefined for a qualified (`db`.`t`) name. */
export function createdTableName(text: string): string | undefined {
  const match = /^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:`((?:[^`]|``)+)`|([\w$]+))\s*(\.)?/i.exec(text);
  if (!match || match[3]) return undefined;
  return match[1] !== undefined ? match[1].replace(/``/g, '`') : match[2];
}

/**
 * After a batch of CREATE TABLEs lost a lock conflict: MySQL 8 takes metadata locks on the parent tables of
 * foreign keys, so CREATE TABLEs running on several connections can deadlock, which MariaDB never does. The
 * statements before the failing one ran (DDL commits each), so this creates the batch's tables that do not
 * exist yet, one statement at a time, retrying lock conflicts a few times. Anything else rethrows `original`.
 */
async function createMissingTables(conn: PoolConnection, statements: ScriptStatement[], original: unknown): Promise<void> {
  const names = statements.map((statement) => createdTableName(statement.text));
  if (names.some((name) => name === undefined)) throw original;
  const [rows] = await conn.query('SELECT TABLE_NAME AS name, @@lower_case_table_names AS folded FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()');
  const listed = rows as { name: string; folded: number | string }[];
  // With lower_case_table_names set, information_schema lists names folded to lower case.
  const key = (name: string) => (Number(listed[0]?.folded ?? 0) > 0 ? name.toLowerCase() : name);
  const existing = new Set(listed.map((row) => key(row.name)));
  for (const [i, statement] of statements.entries()) {
    if (existing.has(key(names[i]!))) continue;
    for (let attempt = 1; ; attempt++) {
      try {
        await conn.query(statement.text);
        break;
      } catch (error) {
        if (!isLockConflict(error) || attempt >= LOCK_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  }
}
