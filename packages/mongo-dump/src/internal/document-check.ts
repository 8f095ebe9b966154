import { deserialize, EJSON, onDemand, serialize } from 'bson';
import { readBsonDocument, type OrderedDoc } from './ordered.js';

/**
 * Why a dumped document cannot be loaded, or undefined when it can. The load decodes every document into
 * JS values and the driver encodes them again (it cannot send stored bytes), so only a document whose
 * decode + re-encode gives back its exact bytes is loaded: anything else would change data silently.
 * `damaged`: the bytes are no BSON document (a corrupt file); `inexact`: valid BSON this loader cannot keep.
 */
export type DocumentProblem = { kind: 'damaged' | 'inexact'; id: string | undefined; detail: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true });
// The JS Date range (ECMAScript: ±100,000,000 days from 1970).
const MAX_DATE_MS = 8.64e15;

const BSON_STRING = 0x02;
const BSON_DOCUMENT = 0x03;
const BSON_ARRAY = 0x04;
const BSON_UNDEFINED = 0x06;
const BSON_DATE = 0x09;
const BSON_REGEX = 0x0b;
const BSON_DB_POINTER = 0x0c;
const BSON_CODE = 0x0d;
const BSON_SYMBOL = 0x0e;
const BSON_CODE_W_SCOPE = 0x0f;

/** Decodes a dumped document the way the load inserts it; throws for bytes that are no BSON document. */
export function decodeDocument(bytes: Uint8Array): OrderedDoc {
  return readBsonDocument(bytes);
}

/** The bytes the driver sends for `doc` (its command serialization: no key checks, undefined kept). */
export function encodeDocument(doc: OrderedDoc): Uint8Array {
  return serialize(doc, { checkKeys: false, ignoreUndefined: false, serializeFunctions: false });
}

export function documentProblem(bytes: Uint8Array): DocumentProblem | undefined {
  // The byte-exact round trip decides; the slower walk below only runs for a document that fails it, to
  // tell a damaged file from an inexact value and name the field (clean documents are the common case).
  let again: Uint8Array | undefined;
  try {
    again = encodeDocument(decodeDocument(bytes));
  } catch {
    again = undefined;
  }
  if (again !== undefined && sameBytes(again, bytes)) return undefined;
  return diagnose(bytes, again);
}

/** Why `bytes` do not round-trip (`again` is their re-encoding, undefined when decoding threw). */
function diagnose(bytes: Uint8Array, again: Uint8Array | undefined): DocumentProblem {
  const id = readableId(bytes);
  try {
    // Structure first, without UTF-8 checks, so a damaged file is told apart from a bad string.
    deserialize(bytes, { promoteValues: false, promoteBuffers: false, promoteLongs: false, bsonRegExp: true, validation: { utf8: false } });
    [...walkElements(bytes, 0, '')];
  } catch (error) {
    return { kind: 'damaged', id, detail: `it is not a valid BSON document (${(error as Error).message})` };
  }
  const cause = inexactCause(bytes);
  if (cause) return { kind: 'inexact', id, detail: cause };
  if (again === undefined) {
    try {
      decodeDocument(bytes);
    } catch (error) {
      return { kind: 'damaged', id, detail: `it is not a valid BSON document (${(error as Error).message})` };
    }
    return { kind: 'damaged', id, detail: 'it is not a valid BSON document' };
  }
  return { kind: 'inexact', id, detail: `it does not encode back to the same bytes (first difference at byte ${firstDifference(bytes, again)})` };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

interface Element {
  type: number;
  path: string;
  /** Offset of the value within the top-level bytes. */
  offset: number;
  length: number;
  nameBytes: Uint8Array;
  siblings: Set<string>;
}

/** Every element at every depth, with its dotted path; throws for broken structure. */
function* walkElements(bytes: Uint8Array, start: number, prefix: string): Generator<Element> {
  const size = new DataView(bytes.buffer, bytes.byteOffset + start, 4).getInt32(0, true);
  const own = bytes.subarray(start, start + size);
  const siblings = new Set<string>();
  for (const [type, nameOffset, nameLength, offset, length] of onDemand.parseToElements(own)) {
    const nameBytes = own.subarray(nameOffset, nameOffset + nameLength);
    const name = Buffer.from(nameBytes).toString('utf8');
    const path = prefix ? `${prefix}.${name}` : name;
    yield { type, path, offset: start + offset, length, nameBytes, siblings };
    siblings.add(name);
    if (type === BSON_DOCUMENT || type === BSON_ARRAY) yield* walkElements(bytes, start + offset, path);
  }
}

/** What in the document the JS driver cannot write back as it is, in words. */
function inexactCause(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (const element of walkElements(bytes, 0, '')) {
    const { type, path, offset } = element;
    const field = `field "${path}"`;
    if (!isUtf8(element.nameBytes)) return `the name of ${field} is not valid UTF-8`;
    if (element.siblings.has(Buffer.from(element.nameBytes).toString('utf8'))) return `${field} appears more than once in its document`;
    if (type === BSON_UNDEFINED) return `${field} holds BSON undefined (a deprecated type the JavaScript driver cannot write)`;
    if (type === BSON_DB_POINTER) return `${field} holds a DBPointer (a deprecated type the JavaScript driver writes back as a DBRef document)`;
    if (type === BSON_DATE) {
      const ms = view.getBigInt64(offset, true);
      if (ms > BigInt(MAX_DATE_MS) || ms < -BigInt(MAX_DATE_MS)) {
        return `${field} holds the date ${ms} ms since 1970, outside the range of JavaScript dates (±8.64e15 ms, years -271821 to 275760)`;
      }
    }
    if (type === BSON_REGEX) {
      const patternEnd = bytes.indexOf(0, offset);
      const flagsEnd = bytes.indexOf(0, patternEnd + 1);
      const pattern = bytes.subarray(offset, patternEnd);
      const flags = Buffer.from(bytes.subarray(patternEnd + 1, flagsEnd)).toString('latin1');
      if (!isUtf8(pattern)) return `the regular expression of ${field} is not valid UTF-8`;
      const sorted = [...flags].sort().join('');
      if (flags !== sorted) return `${field} holds a regular expression with flags "${flags}", which the JavaScript driver writes in alphabetical order ("${sorted}")`;
    }
    if (type === BSON_STRING || type === BSON_CODE || type === BSON_SYMBOL) {
      if (!isUtf8(bytes.subarray(offset + 4, offset + element.length - 1))) return `${field} holds a string that is not valid UTF-8`;
    }
    if (type === BSON_CODE_W_SCOPE) {
      const codeLength = view.getInt32(offset + 4, true);
      if (!isUtf8(bytes.subarray(offset + 8, offset + 8 + codeLength - 1))) return `${field} holds code that is not valid UTF-8`;
    }
  }
  return undefined;
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The document's `_id` as relaxed Extended JSON, for messages; undefined when it has none or it cannot be read. */
function readableId(bytes: Uint8Array): string | undefined {
  try {
    for (const [type, nameOffset, nameLength, offset, length] of onDemand.parseToElements(bytes)) {
      if (Buffer.from(bytes.subarray(nameOffset, nameOffset + nameLength)).toString('utf8') !== '_id') continue;
      // A document of the `_id` element alone: type byte, name, value.
      const element = bytes.subarray(nameOffset - 1, offset + length);
      const single = Buffer.alloc(4 + element.length + 1);
      single.writeInt32LE(single.length, 0);
      single.set(element, 4);
      const value = deserialize(single, { promoteValues: false, bsonRegExp: true, validation: { utf8: false } })._id as unknown;
      return EJSON.stringify(value, { relaxed: true });
    }
  } catch {
    // An unreadable _id is reported as absent; the byte offset still locates the document.
  }
  return undefined;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return length;
}
