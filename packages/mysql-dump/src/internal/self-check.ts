import {
  renderEvents,
  renderHeader,
  renderRoutines,
  renderTables,
  renderTriggers,
  renderViews,
  type DatabaseObjects,
} from './ddl-reader.js';
import { UnportableObjectError } from './errors.js';
import { Refusal } from './sql-lexer.js';
import { StatementAllowlist, createTableMayBeRefused } from './statement-allowlist.js';
import { splitStatements } from './statement-splitter.js';

/**
 * Checks every DDL statement a dump of `objects` writes against the load allowlist (statement-allowlist.ts),
 * in file order, before anything is written: whatever a dump holds, a load accepts. An object the load would
 * refuse (an unusual storage engine, DATA DIRECTORY, a body the allowlist cannot follow...) fails the dump
 * with UnportableObjectError naming it. Rows need no check: InsertWriter writes literals only.
 */
export function refuseUnloadable(objects: DatabaseObjects, database: string): void {
  const allowlist = new StatementAllowlist();
  const one = <K extends 'tables' | 'views' | 'routines' | 'triggers' | 'events'>(key: K, item: DatabaseObjects[K][number]) =>
    ({ ...objects, [key]: [item] }) as DatabaseObjects;
  const parts: [what: string, name: string, text: string][] = [
    ['database', database, renderHeader(objects)],
    // A table whose DDL holds nothing the check could refuse is not lexed (most of a schema's DDL).
    ...objects.tables.filter((t) => createTableMayBeRefused(t.ddl)).map((t) => ['table', t.name, renderTables(one('tables', t))] as [string, string, string]),
    ...objects.routines.map((r) => ['routine', r.name, renderRoutines(one('routines', r))] as [string, string, string]),
    ...objects.views.map((v) => ['view', v.name, renderViews(one('views', v))] as [string, string, string]),
    ...objects.triggers.map((t) => ['trigger', t.name, renderTriggers(one('triggers', t))] as [string, string, string]),
    ...objects.events.map((e) => ['event', e.name, renderEvents(one('events', e))] as [string, string, string]),
  ];
  for (const [what, name, text] of parts) {
    try {
      for (const statement of splitStatements(text)) allowlist.check(statement.text);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      throw new UnportableObjectError(
        database,
        name,
        `${what} \`${name}\` in \`${database}\` cannot be dumped so that a load accepts it: its definition contains ${error.reason}; ` +
          'change or drop it and dump again',
      );
    }
  }
}
