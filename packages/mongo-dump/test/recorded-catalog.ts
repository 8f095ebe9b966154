import { readFileSync } from 'node:fs';
import { serialize } from 'bson';
import { dumpedCatalogEntries, specFromCatalog, type CollectionSpec } from '../src/internal/normalise.js';
import { parseExtendedJson, readBsonDocument, stringField, type OrderedDoc } from '../src/internal/ordered.js';

/**
 * The recorded MongoDB 7 catalog (test/fixtures/mongodb7-catalog.json) as raw BSON documents, read the
 * way readCatalog reads a live server's raw cursors, for the cases FerretDB cannot create.
 */
export function recordedCatalog(): { entries: OrderedDoc[]; indexes: Map<string, OrderedDoc[]> } {
  const text = readFileSync(new URL('./fixtures/mongodb7-catalog.json', import.meta.url), 'utf8');
  const fixture = parseExtendedJson(text) as OrderedDoc;
  const asServerSends = (doc: unknown) => readBsonDocument(serialize(doc as OrderedDoc));
  const entries = (fixture.get('listCollections') as unknown[]).map(asServerSends);
  const indexes = new Map(
    [...(fixture.get('listIndexes') as OrderedDoc)].map(([name, list]) => [name, (list as unknown[]).map(asServerSends)]),
  );
  return { entries, indexes };
}

/** The specs a dump of the recorded catalog would write, in dump order. */
export function recordedSpecs(): CollectionSpec[] {
  const { entries, indexes } = recordedCatalog();
  return dumpedCatalogEntries(entries).map((entry) => {
    const name = stringField(entry, 'name') ?? '';
    return specFromCatalog(entry, indexes.get(name) ?? []);
  });
}
