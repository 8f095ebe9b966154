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

function readContainer(bytes: Uint8Array, start: number, isArray: boolean): OrderedDoc | unknown[] {
  const size = new DataView(bytes.buffer, bytes.byteOffset + start, 4).getInt32(0, true);
  const own = bytes.subarray(start, start + size);
  // The deserializer gives exact leaf values; parseToElements gives the field order and the offsets of
  // nested documents, which we read the same way.
  const values = deserialize(own, { ...EXACT_TYPES, index: 0 }) as Record<string, unknown>;
  const fields: Array<[string, unknown]> = [];
  for (const [type, nameOffset, nameLength, offset] of onDemand.parseToElements(own)) {
    const name = onDemand.ByteUtils.toUTF8(own, nameOffset, nameOffset + nameLength, false);
    let value: unknown;
    if (type === BSON_EMBEDDED_DOCUMENT) value = readContainer(own, offset, false);
    else if (type === BSON_ARRAY) value = readContainer(own, offset, true);
    else value = values[name];
    fields.push([name, value]);
  }
  return isArray ? fields.map(([, value]) => value) : new Map(fields);
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
  if (keys.length > 0 && keys.every((key) => key.startsWith('$'))) {
    // Either a type wrapper ({"$numberInt": "1"}, {"$oid": ...}) or an operator document
    // ({"$exists": true}); EJSON turns the first into a BSON value and returns the second as is.
    const plain = Object.fromEntries(children.map((property) => plainEntry(property)));
    const converted: unknown = EJSON.deserialize(plain, { relaxed: false });
    if (!isPlainObject(converted)) return converted;
  }
  return new Map(
    children.map((property, index) => {
      const valueNode = property.children?.[1];
      return [keys[index] ?? '', valueNode ? fromJsonNode(valueNode) : null] as [string, unknown];
    }),
  );
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

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
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
