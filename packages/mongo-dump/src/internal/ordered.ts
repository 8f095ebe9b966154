import { deserialize, EJSON, onDemand, type DeserializeOptions } from 'bson';
import { parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';

/**
 * A BSON document whose field order is kept. Plain JS objects list integer-like keys ("2", "10") first
 * whatever their BSON order, which would silently reorder index keys such as `{ "2": 1, "1": 1 }`, so
 * every document we read, compare or write is a Map. The bson serializer writes Maps in insertion order.
 * Leaf values keep their exact BSON type (Int32 vs Double vs Long) so a round trip is byte-exact.
 */
export type OrderedDoc = Map<string, unknown>;

const BSON_EMBEDDED_DOCUMENT = 0x03;
const BSON_ARRAY = 0x04;

const EXACT_TYPES: DeserializeOptions = {
  promoteValues: false,
  promoteBuffers: false,
  promoteLongs: false,
  bsonRegExp: true,
};

/** Reads the BSON document starting at `start` of `bytes`, keeping field order at every depth. */
export function readBsonDocument(bytes: Uint8Array, start = 0): OrderedDoc {
  return readContainer(bytes, start, false) as OrderedDoc;
}

function readContainer(bytes: Uint8Array, start: number, isArray: boolean, decoded?: Record<string, unknown> | unknown[]): OrderedDoc | unknown[] {
  const size = new DataView(bytes.buffer, bytes.byteOffset + start, 4).getInt32(0, true);
  const own = bytes.subarray(start, start + size);
  // The deserializer gives exact leaf values; parseToElements gives the field order and the offsets of
  // nested documents, which we read the same way. A nested container's values come from its parent's
  // decode (not a second one per level).
  const values = decoded ?? decodeValues(own);
  const fields: Array<[string, unknown]> = [];
  let position = 0;
  for (const [type, nameOffset, nameLength, offset] of onDemand.parseToElements(own)) {
    const name = onDemand.ByteUtils.toUTF8(own, nameOffset, nameOffset + nameLength, false);
    // The deserializer numbers array items by position, whatever their names say.
    const decodedValue = Array.isArray(values) ? values[position] : values[name];
    position++;
    let value: unknown;
    if (type === BSON_EMBEDDED_DOCUMENT) value = readContainer(own, offset, false, isPlainObject(decodedValue) ? decodedValue : undefined);
    else if (type === BSON_ARRAY) value = readContainer(own, offset, true, Array.isArray(decodedValue) ? decodedValue : undefined);
    else value = decodedValue;
    fields.push([name, value]);
  }
  return isArray ? fields.map(([, value]) => value) : new Map(fields);
}

/**
 * The values of one document's fields by name. The deserializer turns a document shaped like a DBRef
 * (`$ref`, `$id`, optional `$db`) into a DBRef object, which has no such fields: its elements are then
 * decoded one by one, each alone in a document, which no DBRef has.
 */
function decodeValues(own: Uint8Array): Record<string, unknown> {
  const values = deserialize(own, { ...EXACT_TYPES, index: 0 }) as unknown;
  if (isPlainObject(values)) return values;
  const byName: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [, nameOffset, nameLength, offset, length] of onDemand.parseToElements(own)) {
    const element = own.subarray(nameOffset - 1, offset + length);
    const single = new Uint8Array(4 + element.length + 1);
    new DataView(single.buffer).setInt32(0, single.length, true);
    single.set(element, 4);
    const name = onDemand.ByteUtils.toUTF8(own, nameOffset, nameOffset + nameLength, false);
    byName[name] = (deserialize(single, { ...EXACT_TYPES, index: 0 }) as Record<string, unknown>)[name];
  }
  return byName;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Canonical Extended JSON (the form mongodump writes), compact, with the Map's field order. */
export function toCanonicalJson(value: unknown): string {
  if (value instanceof Map) {
    const parts: string[] = [];
    for (const [key, item] of value as OrderedDoc) parts.push(`${JSON.stringify(key)}:${toCanonicalJson(item)}`);
    return `{${parts.join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(toCanonicalJson).join(',')}]`;
  if (value === undefined) return '{"$undefined":true}';
  return EJSON.stringify(value, { relaxed: false });
}

/** Parses Extended JSON (canonical or relaxed) into Maps, keeping the field order of the text. */
export function parseExtendedJson(text: string): unknown {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  const first = errors[0];
  if (first || !root) {
    const where = first ? ` at offset ${first.offset}: ${printParseErrorCode(first.error)}` : '';
    throw new SyntaxError(`not valid JSON${where}`);
  }
  return fromJsonNode(root);
}

function fromJsonNode(node: Node): unknown {
  const children = node.children ?? [];
  if (node.type === 'array') return children.map(fromJsonNode);
  if (node.type !== 'object') return EJSON.deserialize(node.value, { relaxed: false });
  const keys = children.map((property) => String(property.children?.[0]?.value));
  const wrapper = wrapperOf(keys);
  if (wrapper) {
    const plain = Object.fromEntries(children.map((property) => plainEntry(property)));
    const problem = wrapper.check(plain);
    if (problem !== undefined) throw new SyntaxError(`${JSON.stringify(plain)} at offset ${node.offset} is not a valid Extended JSON ${wrapper.keys.join('/')}: ${problem}`);
    try {
      return EJSON.deserialize(plain, { relaxed: false });
    } catch (error) {
      throw new SyntaxError(`${JSON.stringify(plain)} at offset ${node.offset} is not a valid Extended JSON ${wrapper.keys.join('/')}: ${(error as Error).message}`);
    }
  }
  // Anything else is a document, also when all its keys start with "$" (query operators, pipeline stages).
  return new Map(
    children.map((property, index) => {
      const valueNode = property.children?.[1];
      return [keys[index] ?? '', valueNode ? fromJsonNode(valueNode) : null] as [string, unknown];
    }),
  );
}

interface Wrapper {
  keys: string[];
  /** What is wrong with the value, or undefined. EJSON itself is lenient ("x" as $numberInt reads as 0). */
  check: (plain: Record<string, unknown>) => string | undefined;
}

const INT = /^-?\d+$/;
const DOUBLE = /^(-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|-?Infinity|NaN)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_SUBTYPE = /^[0-9a-fA-F]{1,2}$/;
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const hasExactly = (value: unknown, keys: string[]): value is Record<string, unknown> =>
  isObject(value) && Object.keys(value).length === keys.length && keys.every((key) => key in value);
const inRange = (text: string, min: bigint, max: bigint) => BigInt(text) >= min && BigInt(text) <= max;
const int32 = (value: unknown) => (typeof value === 'string' && INT.test(value) && inRange(value, -(2n ** 31n), 2n ** 31n - 1n) ? undefined : 'expected a 32-bit integer in a string');
const int64 = (value: unknown) => (typeof value === 'string' && INT.test(value) && inRange(value, -(2n ** 63n), 2n ** 63n - 1n) ? undefined : 'expected a 64-bit integer in a string');
const uint32 = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff ? undefined : 'expected an unsigned 32-bit integer');
const string = (value: unknown) => (typeof value === 'string' ? undefined : 'expected a string');

function checkDate(value: unknown): string | undefined {
  if (hasExactly(value, ['$numberLong'])) return int64(value.$numberLong);
  // Relaxed forms: an ISO-8601 string, or (legacy) a number of milliseconds.
  if (typeof value === 'string') return /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'expected an ISO-8601 date';
  if (typeof value === 'number') return Number.isInteger(value) ? undefined : 'expected whole milliseconds';
  return 'expected {"$numberLong": "<milliseconds>"} or an ISO-8601 date';
}

/**
 * The Extended JSON type wrappers (canonical and relaxed, v2, plus the legacy `$binary`/`$type`): an
 * object is one only when its keys are exactly one of these sets. `{"$regex", "$options"}` is left a
 * document on purpose: mongodump writes regular expressions as `$regularExpression`, so those keys are
 * the query operator with its options, and reading them as a regex would change the bytes.
 */
const WRAPPERS: Wrapper[] = [
  { keys: ['$oid'], check: (p) => (typeof p.$oid === 'string' && /^[0-9a-fA-F]{24}$/.test(p.$oid) ? undefined : 'expected 24 hex digits') },
  { keys: ['$numberInt'], check: (p) => int32(p.$numberInt) },
  { keys: ['$numberLong'], check: (p) => int64(p.$numberLong) },
  { keys: ['$numberDouble'], check: (p) => (typeof p.$numberDouble === 'string' && DOUBLE.test(p.$numberDouble) ? undefined : 'expected a decimal number, Infinity, -Infinity or NaN in a string') },
  { keys: ['$numberDecimal'], check: (p) => string(p.$numberDecimal) },
  { keys: ['$date'], check: (p) => checkDate(p.$date) },
  {
    keys: ['$binary'],
    check: (p) => (hasExactly(p.$binary, ['base64', 'subType']) && typeof p.$binary.base64 === 'string' && BASE64.test(p.$binary.base64) && typeof p.$binary.subType === 'string' && HEX_SUBTYPE.test(p.$binary.subType) ? undefined : 'expected {"base64": "<base64>", "subType": "<hex>"}'),
  },
  { keys: ['$binary', '$type'], check: (p) => (typeof p.$binary === 'string' && BASE64.test(p.$binary) && typeof p.$type === 'string' && HEX_SUBTYPE.test(p.$type) ? undefined : 'expected base64 and a hex subtype') },
  { keys: ['$uuid'], check: (p) => (typeof p.$uuid === 'string' && UUID.test(p.$uuid) ? undefined : 'expected a UUID') },
  { keys: ['$timestamp'], check: (p) => (hasExactly(p.$timestamp, ['t', 'i']) ? (uint32(p.$timestamp.t) ?? uint32(p.$timestamp.i)) : 'expected {"t": <seconds>, "i": <increment>}') },
  {
    keys: ['$regularExpression'],
    check: (p) => (hasExactly(p.$regularExpression, ['pattern', 'options']) && typeof p.$regularExpression.pattern === 'string' && typeof p.$regularExpression.options === 'string' ? undefined : 'expected {"pattern": "...", "options": "..."}'),
  },
  { keys: ['$code'], check: (p) => string(p.$code) },
  { keys: ['$code', '$scope'], check: (p) => string(p.$code) ?? (isObject(p.$scope) ? undefined : 'expected a $scope document') },
  { keys: ['$symbol'], check: (p) => string(p.$symbol) },
  { keys: ['$dbPointer'], check: (p) => (hasExactly(p.$dbPointer, ['$ref', '$id']) && typeof p.$dbPointer.$ref === 'string' && hasExactly(p.$dbPointer.$id, ['$oid']) ? undefined : 'expected {"$ref": "...", "$id": {"$oid": "..."}}') },
  { keys: ['$minKey'], check: (p) => (p.$minKey === 1 ? undefined : 'expected 1') },
  { keys: ['$maxKey'], check: (p) => (p.$maxKey === 1 ? undefined : 'expected 1') },
  { keys: ['$undefined'], check: (p) => (p.$undefined === true ? undefined : 'expected true') },
];

function wrapperOf(keys: readonly string[]): Wrapper | undefined {
  const sorted = [...keys].sort().join('\0');
  return WRAPPERS.find((wrapper) => [...wrapper.keys].sort().join('\0') === sorted);
}

function plainEntry(property: Node): [string, unknown] {
  const valueNode = property.children?.[1];
  return [String(property.children?.[0]?.value), valueNode ? toPlain(valueNode) : null];
}

function toPlain(node: Node): unknown {
  const children = node.children ?? [];
  if (node.type === 'array') return children.map(toPlain);
  if (node.type === 'object') return Object.fromEntries(children.map(plainEntry));
  return node.value;
}

/** A field of an ordered document read as a string, or undefined when absent or of another type. */
export function stringField(doc: OrderedDoc, key: string): string | undefined {
  const value = doc.get(key);
  return typeof value === 'string' ? value : undefined;
}

/** A field that must be an ordered document; an absent field reads as an empty document. */
export function docField(doc: OrderedDoc, key: string): OrderedDoc {
  const value = doc.get(key);
  return value instanceof Map ? (value as OrderedDoc) : new Map();
}
