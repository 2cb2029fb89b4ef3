// The stored text of an event: canonical JSON (keys sorted by UTF-16 code units, no whitespace,
// undefined fields left out, the same bytes as `canonicalJson`), written in one pass. The text is
// what the store keeps and what the hash chain covers, so it is produced once, on append, and
// verified as read, never parsed and re-serialized to be checked.
//
//   {"data":<the encoded event>,"metadata":<compact metadata>,"type":"<type>"}
//
// Compact metadata holds what is not implied: actor, commandId, timestamp, the command's
// fingerprint, and correlationId / causationId only when they differ from commandId.
import type { EventMetadata } from './event-store.js';

/** Strings that JSON.stringify would escape: quote, backslash, control characters, surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

const stringText = (value: string): string => (NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`);

/**
 * Sorted key orders already seen, by first key: the encoders build objects of a few fixed shapes,
 * so sorting their keys once per shape is enough. Bounded, so that objects keyed by data (ids)
 * only cost a sort each.
 */
const ORDERS_PER_FIRST_KEY = 32;
const MAX_FIRST_KEYS = 512;
const orders = new Map<string, { readonly keys: ReadonlyArray<string>; readonly sorted: ReadonlyArray<string> }[]>();

const sameKeys = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

const isSorted = (keys: ReadonlyArray<string>): boolean => {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
};

const sortedKeys = (keys: string[]): ReadonlyArray<string> => {
  if (isSorted(keys)) return keys;
  const first = keys[0]!;
  let known = orders.get(first);
  if (known !== undefined) {
    for (const order of known) if (sameKeys(order.keys, keys)) return order.sorted;
  }
  // Array.prototype.sort without a comparator orders by UTF-16 code units, as canonicalJson does.
  const sorted = [...keys].sort();
  if (known === undefined && orders.size < MAX_FIRST_KEYS) orders.set(first, known = []);
  if (known !== undefined && known.length < ORDERS_PER_FIRST_KEY) known.push({ keys, sorted });
  return sorted;
};

/** Canonical JSON of a JSON value: equal, byte for byte, to `canonicalJson(value)`. */
export const canonicalText = (value: unknown): string => {
  switch (typeof value) {
    case 'string':
      return stringText(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalText(value[i]);
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      let out = '{';
      if (keys.length > 0) {
        let first = true;
        for (const key of sortedKeys(keys)) {
          const field = record[key];
          if (field === undefined) continue;
          out += `${first ? '' : ','}${stringText(key)}:${canonicalText(field)}`;
          first = false;
        }
      }
      return `${out}}`;
    }
    default:
      // undefined, functions, symbols and bigints have no JSON form (canonicalJson throws too).
      throw new TypeError(`canonicalText: ${typeof value} has no JSON form`);
  }
};

/** The metadata fields the text keeps (the in-memory metadata, before defaults are dropped). */
export type TextMetadata = EventMetadata;

/** Compact metadata as canonical JSON: keys in sorted order, implied ids left out. */
export const metadataText = (m: TextMetadata): string => {
  let out = `{"actor":${stringText(m.actor)}`;
  if (m.causationId !== m.commandId) out += `,"causationId":${stringText(m.causationId)}`;
  out += `,"commandId":${stringText(m.commandId)}`;
  if (m.correlationId !== m.commandId) out += `,"correlationId":${stringText(m.correlationId)}`;
  if (m.fingerprint !== undefined) out += `,"fingerprint":${stringText(m.fingerprint)}`;
  return `${out},"timestamp":${canonicalText(m.timestamp)}}`;
};

/** The stored text of an event. */
export const storedText = (type: string, data: unknown, metadata: TextMetadata): string =>
  storedTextOf(type, canonicalText(data), metadata);

/** The stored text of an event whose data is already canonical JSON (`canonicalText` of the data). */
export const storedTextOf = (type: string, dataText: string, metadata: TextMetadata): string =>
  `{"data":${dataText},"metadata":${metadataText(metadata)},"type":${stringText(type)}}`;
