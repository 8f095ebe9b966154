import { describe, expect, test } from 'vitest';
import type { Document } from 'mongodb';
import {
  indexCommands,
  indexesToCreate,
  indexesToDrop,
  isBuiltWithCollection,
} from '../src/internal/index-plan.js';
import { metadataJson, specFromCatalog, specFromMetadata, type CollectionSpec } from '../src/internal/normalise.js';
import { docField, parseExtendedJson, stringField, toCanonicalJson, type OrderedDoc } from '../src/internal/ordered.js';
import { recordedSpecs } from './recorded-catalog.js';

const doc = (json: string) => parseExtendedJson(json) as OrderedDoc;
const docs = (json: string) => parseExtendedJson(json) as OrderedDoc[];
const names = (indexes: readonly OrderedDoc[]) => indexes.map((index) => stringField(index, 'name'));

// Listed as MongoDB 7 lists them (with `v`), or as a dump holds them (normalised, without `v`).
const PLAIN = '{}';
const CLUSTERED_DEFAULT = '{"clusteredIndex":{"key":{"_id":1},"name":"_id_","unique":true}}';
const CLUSTERED_CUSTOM = '{"clusteredIndex":{"key":{"_id":1},"name":"stocks_by_id","unique":true}}';
const TIME_SERIES = '{"timeseries":{"timeField":"ts","metaField":"sensor","granularity":"seconds"}}';
const TIME_SERIES_NO_META = '{"timeseries":{"timeField":"ts","granularity":"seconds"}}';
const ID = '{"key":{"_id":1},"name":"_id_"}';
const AUTO_META_TIME = '{"v":2,"key":{"sensor":1,"ts":1},"name":"sensor_1_ts_1"}';
const DUMPED_META_TIME = '{"key":{"sensor":1,"ts":1},"name":"sensor_1_ts_1"}';

describe('isBuiltWithCollection: indexes createCollection makes itself', () => {
  test.each([
    ['default _id_ of a plain collection', PLAIN, ID, true],
    ['a secondary index', PLAIN, '{"key":{"email":1},"name":"email_1"}', false],
    ['default-named clustered index', CLUSTERED_DEFAULT, '{"key":{"_id":1},"name":"_id_","clustered":true,"unique":true}', true],
    ['custom-named clustered index', CLUSTERED_CUSTOM, '{"key":{"_id":1},"name":"stocks_by_id","clustered":true,"unique":true}', true],
    ['cluster key without the clustered flag (hand-edited dump)', CLUSTERED_CUSTOM, '{"key":{"_id":1},"name":"stocks_by_id","unique":true}', true],
    ['cluster key written as a double', CLUSTERED_CUSTOM, '{"key":{"_id":{"$numberDouble":"1.0"}},"name":"x","unique":true}', true],
    ['descending _id on a clustered collection is a real index', CLUSTERED_CUSTOM, '{"key":{"_id":-1},"name":"_id_-1"}', false],
    ['_id key that is not unique is not the cluster key', CLUSTERED_CUSTOM, '{"key":{"_id":1},"name":"plain_id"}', false],
    ['hashed _id on a plain collection is a real index', PLAIN, '{"key":{"_id":"hashed"},"name":"_id_hashed"}', false],
    ['time series automatic index', TIME_SERIES, AUTO_META_TIME, false],
  ])('%s', (_case, options, index, expected) => {
    expect(isBuiltWithCollection(doc(index), doc(options))).toBe(expected);
  });
});

describe('indexesToCreate: what createIndexes is sent', () => {
  test.each([
    ['plain collection: all but _id_', PLAIN, `[${ID},{"key":{"email":1},"name":"email_1"}]`, '[]', ['email_1']],
    ['default _id_ clustered index skipped', CLUSTERED_DEFAULT, '[{"key":{"_id":1},"name":"_id_","clustered":true,"unique":true}]', '[]', []],
    [
      'custom-named clustered index skipped, secondary kept',
      CLUSTERED_CUSTOM,
      '[{"key":{"price":1},"name":"price_1"},{"key":{"_id":1},"name":"stocks_by_id","clustered":true,"unique":true}]',
      '[]',
      ['price_1'],
    ],
    ['time series: automatic index in the dump and already there', TIME_SERIES, `[${DUMPED_META_TIME}]`, `[${AUTO_META_TIME}]`, []],
    ['time series: automatic index in the dump, server added none (< 6.3)', TIME_SERIES, `[${DUMPED_META_TIME}]`, '[]', ['sensor_1_ts_1']],
    [
      'time series: dump has only its own index',
      TIME_SERIES,
      '[{"key":{"sensor":1,"ts":-1},"name":"latest_by_sensor"}]',
      `[${AUTO_META_TIME}]`,
      ['latest_by_sensor'],
    ],
    [
      'time series: same name as the automatic index, other spec',
      TIME_SERIES,
      '[{"key":{"sensor":1,"ts":-1},"name":"sensor_1_ts_1"}]',
      `[${AUTO_META_TIME}]`,
      ['sensor_1_ts_1'],
    ],
  ])('%s', (_case, options, dumped, existing, expected) => {
    expect(names(indexesToCreate(docs(dumped), doc(options), docs(existing)))).toEqual(expected);
  });
});

describe('indexesToDrop: what the server added that the dump lacks', () => {
  test.each([
    ['time series: automatic index in the dump too', TIME_SERIES, `[${AUTO_META_TIME}]`, `[${DUMPED_META_TIME}]`, []],
    ['time series: automatic index absent from the dump', TIME_SERIES, `[${AUTO_META_TIME}]`, '[]', ['sensor_1_ts_1']],
    [
      'time series: automatic index replaced by a custom-named one on the same key',
      TIME_SERIES,
      `[${AUTO_META_TIME}]`,
      '[{"key":{"sensor":1,"ts":1},"name":"by_sensor"}]',
      ['sensor_1_ts_1'],
    ],
    [
      'time series: same name, other spec',
      TIME_SERIES,
      `[${AUTO_META_TIME}]`,
      '[{"key":{"sensor":1,"ts":-1},"name":"sensor_1_ts_1"}]',
      ['sensor_1_ts_1'],
    ],
    ['time series without metaField: nothing was added', TIME_SERIES_NO_META, '[]', '[]', []],
    [
      'time series: _id_ and a clustered index are never dropped',
      TIME_SERIES,
      `[{"v":2,"key":{"_id":1},"name":"_id_"},{"v":2,"key":{"control.min.ts":1},"name":"bucket_key","clustered":true,"unique":true}]`,
      '[]',
      [],
    ],
    ['plain collection unaffected, whatever is listed', PLAIN, `[${ID},{"v":2,"key":{"x":1},"name":"x_1"}]`, `[${ID}]`, []],
    ['clustered collection unaffected', CLUSTERED_CUSTOM, '[{"v":2,"key":{"_id":1},"name":"stocks_by_id","clustered":true,"unique":true}]', '[]', []],
  ])('%s', (_case, options, existing, dumped, expected) => {
    expect(indexesToDrop(docs(existing), docs(dumped), doc(options))).toEqual(expected);
  });
});

/**
 * A stand-in for what MongoDB 7 does with the commands: createCollection builds `_id_`, the cluster key
 * (under clusteredIndex.name) or a time series' meta/time index; createIndexes refuses the `_id_` and
 * cluster keys (which the old name-only filter sent for a custom-named cluster key).
 */
function simulateLoad(spec: CollectionSpec): { commands: Document[]; indexes: OrderedDoc[] } {
  const indexes: OrderedDoc[] = [];
  const clusteredIndex = spec.options.get('clusteredIndex');
  const timeseries = docField(spec.options, 'timeseries');
  if (clusteredIndex instanceof Map) {
    const name = stringField(clusteredIndex as OrderedDoc, 'name') ?? '_id_';
    indexes.push(doc(`{"v":2,"key":{"_id":1},"name":"${name}","unique":true,"clustered":true}`));
  } else if (timeseries.size > 0) {
    const meta = stringField(timeseries, 'metaField');
    const time = stringField(timeseries, 'timeField') ?? '';
    if (meta !== undefined) indexes.push(doc(`{"v":2,"key":{"${meta}":1,"${time}":1},"name":"${meta}_1_${time}_1"}`));
  } else {
    // The `_id_` index takes the collection's default collation.
    const collation = spec.options.get('collation');
    const idIndex = doc('{"v":2,"key":{"_id":1},"name":"_id_"}');
    indexes.push(collation === undefined ? idIndex : idIndex.set('collation', collation));
  }
  const commands = indexCommands(spec, timeseries.size > 0 ? [...indexes] : []);
  for (const command of commands) {
    if ('dropIndexes' in command) {
      const at = indexes.findIndex((index) => stringField(index, 'name') === command.index);
      if (at < 0) throw new Error(`index not found: ${String(command.index)}`);
      indexes.splice(at, 1);
      continue;
    }
    for (const index of command.indexes as OrderedDoc[]) {
      if (index.get('clustered') === true || stringField(index, 'name') === '_id_') {
        throw new Error(`createIndexes sent the index createCollection built: ${toCanonicalJson(index)}`);
      }
      indexes.push(index);
    }
  }
  return { commands, indexes };
}

const specOf = (name: string, options: string, indexes: string): CollectionSpec =>
  specFromCatalog(doc(`{"name":"${name}","type":"${options.includes('timeseries') ? 'timeseries' : 'collection'}","options":${options}}`), docs(indexes));

describe('a load ends with exactly the dumped indexes (simulated MongoDB 7)', () => {
  test.each([
    ['plain collection', specOf('orders', PLAIN, `[${ID},{"key":{"email":1},"name":"email_1","unique":true}]`), 1],
    ['default _id_ clustered', specOf('stocks', CLUSTERED_DEFAULT, '[{"v":2,"key":{"_id":1},"name":"_id_","unique":true,"clustered":true}]'), 0],
    [
      'custom-named clustered',
      specOf('stocks', CLUSTERED_CUSTOM, '[{"v":2,"key":{"_id":1},"name":"stocks_by_id","unique":true,"clustered":true},{"key":{"p":1},"name":"p_1"}]'),
      1,
    ],
    ['time series keeping its automatic index', specOf('readings', TIME_SERIES, `[${AUTO_META_TIME}]`), 0],
    ['time series whose automatic index was dropped', specOf('readings', TIME_SERIES, '[]'), 1],
    [
      'time series with its own index instead of the automatic one',
      specOf('readings', TIME_SERIES, '[{"key":{"sensor":1,"ts":-1},"name":"latest"}]'),
      2,
    ],
    ['time series without metaField', specOf('readings', TIME_SERIES_NO_META, '[{"key":{"ts":1},"name":"ts_1"}]'), 1],
  ])('%s', (_case, spec, commandCount) => {
    const { commands, indexes } = simulateLoad(spec);
    expect(commands).toHaveLength(commandCount);
    // Drops come before creates, so a dumped index may reuse what the server had added.
    const firstCreate = commands.findIndex((command) => 'createIndexes' in command);
    expect(commands.slice(firstCreate < 0 ? commands.length : firstCreate).every((c) => 'createIndexes' in c)).toBe(true);
    // What a second dump would list equals the first dump's metadata, byte for byte.
    const redumped = specFromCatalog(doc(`{"name":"${spec.name}","type":"${spec.type}","options":{}}`), indexes);
    expect(redumped.indexes.map((index) => toCanonicalJson(index))).toEqual(spec.indexes.map((index) => toCanonicalJson(index)));
  });

  test.each(recordedSpecs().filter((spec) => spec.type !== 'view').map((spec) => [spec.name, spec] as const))(
    'recorded MongoDB 7 catalog: %s',
    (_name, spec) => {
      const { indexes } = simulateLoad(spec);
      const redumped = specFromCatalog(doc(`{"name":"${spec.name}","options":{}}`), indexes);
      expect(redumped.indexes.map((index) => toCanonicalJson(index))).toEqual(spec.indexes.map((index) => toCanonicalJson(index)));
    },
  );
});

describe('dump side of a custom-named clustered collection', () => {
  // listCollections and listIndexes of MongoDB 7 for createCollection('ticks', { clusteredIndex: { key: { _id: 1 }, unique: true, name: 'ticks_by_id' } }).
  const entry = doc('{"name":"ticks","type":"collection","options":{"clusteredIndex":{"v":2,"key":{"_id":1},"name":"ticks_by_id","unique":true}},"info":{"readOnly":false}}');
  const listed = docs('[{"v":2,"key":{"_id":1},"name":"ticks_by_id","unique":true,"clustered":true}]');
  const spec = specFromCatalog(entry, listed);

  test('metadata keeps the name in both options and indexes, and reads back to the same bytes', () => {
    const json = metadataJson(spec);
    expect(json).toBe(
      '{"options":{"clusteredIndex":{"key":{"_id":{"$numberInt":"1"}},"name":"ticks_by_id","unique":true}},' +
        '"indexes":[{"key":{"_id":{"$numberInt":"1"}},"name":"ticks_by_id","clustered":true,"unique":true}],"collectionName":"ticks","type":"collection"}',
    );
    const reread = specFromMetadata('ticks', parseExtendedJson(json));
    expect(typeof reread === 'string' ? reread : metadataJson(reread)).toBe(json);
  });

  test('the load sends no index command: createCollection builds the cluster key under its name', () => {
    expect(indexCommands(spec, [])).toEqual([]);
    // The create command carries the clustered index name, so the reloaded listing is the same.
    expect(toCanonicalJson(spec.options)).toContain('"name":"ticks_by_id"');
  });
});
