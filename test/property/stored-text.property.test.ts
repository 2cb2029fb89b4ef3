// The stored text is canonical JSON: the one-pass serializer gives canonicalJson's bytes for any
// JSON value and for every encoded domain event, and reading the text back gives the event, its
// metadata with the implied ids filled in, exactly as written. The metadata of the usual shape is
// read without io-ts: for any object, well-formed or not, the result must be io-ts's.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJson, compactTradeText, encodeEvent, type TradeExecuted } from '../../domain/index.js';
import { canonicalText, metadataText, storedText } from '../../services/ledger/stored-text.js';
import { expandMetadata, parseStoredText, readMetadataOf, readStoredMetadata, StoredMetadataCodec, type EventMetadata } from '../../services/ledger/event-store.js';
import { decodeWith } from '../../domain/index.js';
import { chainHash, GENESIS_HASH, sealed, sealedText, verifyChain } from '../../services/ledger/chain.js';
import { propertyParameters } from '../support/property.js';
import { runScenario, scenarioArb } from '../support/scenarios.js';

/** JSON values with awkward strings and keys: escapes, surrogates (paired and lone), numeric keys. */
const awkwardString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\u0000', '\u001f', '\ud800', '\udc00x', '😀', '10', '2', '__proto__x', ''));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' },
    fc.constant(null), fc.boolean(), awkwardString,
    fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, 1e21, 1e-7, Number.MAX_SAFE_INTEGER)),
    fc.array(tie('value')),
    fc.dictionary(awkwardString, tie('value'))),
})).value;

const metadataArb: fc.Arbitrary<EventMetadata> = fc.record({
  commandId: awkwardString,
  timestamp: fc.integer({ min: 0, max: 2 ** 48 }),
  actor: awkwardString,
  correlationId: awkwardString,
  causationId: awkwardString,
}).chain((m) => fc.record({
  commandId: fc.constant(m.commandId), timestamp: fc.constant(m.timestamp), actor: fc.constant(m.actor),
  // As often the same as the command id (left out of the text) as not.
  correlationId: fc.constantFrom(m.commandId, m.correlationId),
  causationId: fc.constantFrom(m.commandId, m.causationId),
  fingerprint: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: undefined }),
}, { requiredKeys: ['commandId', 'timestamp', 'actor', 'correlationId', 'causationId'] }));

describe('stored text', () => {
  it('is canonicalJson of any JSON value, byte for byte', () => {
    fc.assert(fc.property(json, (value) => {
      expect(canonicalText(value)).toBe(canonicalJson(value));
    }), propertyParameters('canonical text of JSON values', 500));
  });

  it('is canonicalJson of every encoded domain event', () => {
    fc.assert(fc.property(scenarioArb({ maxSteps: 40 }), (scenario) => {
      for (const event of runScenario(scenario).events) {
        const encoded = encodeEvent(event);
        expect(canonicalText(encoded)).toBe(canonicalJson(encoded));
      }
    }), propertyParameters('canonical text of domain events', 40));
  });

  it('of a trade, written field by field, is canonicalJson of the encoded trade (or left to the general path)', () => {
    let written = 0;
    fc.assert(fc.property(scenarioArb({ maxSteps: 40 }), (scenario) => {
      for (const event of runScenario(scenario).events) {
        if (event.type !== 'TradeExecuted') continue;
        const text = compactTradeText(event);
        if (text !== undefined) written++;
        expect(text ?? canonicalText(encodeEvent(event))).toBe(canonicalJson(encodeEvent(event)));
        // A trade that is not of `decide`'s shape (a key of its own, a string to escape, postings that do not rebuild) is not written so.
        expect(compactTradeText({ ...event, note: 'x' } as unknown as TradeExecuted)).toBeUndefined();
        expect(compactTradeText({ ...event, taker: 'a"b' })).toBeUndefined();
        expect(compactTradeText({ ...event, postings: event.postings.slice(1) })).toBeUndefined();
        const rebated = { ...event, makerRebate: 1n };
        const rebatedText = compactTradeText(rebated);
        if (rebatedText !== undefined) expect(rebatedText).toBe(canonicalJson(encodeEvent(rebated)));
      }
    }), propertyParameters('stored text of trades, written field by field', 60));
    expect(written).toBeGreaterThan(0);
  });

  it('of an event is canonicalJson of type, data and compact metadata, and reads back as written', () => {
    fc.assert(fc.property(awkwardString, json, metadataArb, (type, data, metadata) => {
      const text = storedText(type, data, metadata);
      const { fingerprint, ...rest } = metadata;
      const compact = {
        commandId: rest.commandId, timestamp: rest.timestamp, actor: rest.actor,
        ...(rest.correlationId === rest.commandId ? {} : { correlationId: rest.correlationId }),
        ...(rest.causationId === rest.commandId ? {} : { causationId: rest.causationId }),
        ...(fingerprint === undefined ? {} : { fingerprint }),
      };
      expect(metadataText(metadata)).toBe(canonicalJson(compact));
      expect(text).toBe(canonicalJson({ type, data, metadata: compact }));
      expect(E.isRight(StoredMetadataCodec.decode(JSON.parse(metadataText(metadata))))).toBe(true);
      const read = parseStoredText(text, 0n);
      const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
      expect(read).toEqual(E.right({ type, data: JSON.parse(JSON.stringify(data)), metadata: { ...metadata, schemaVersion: typeof version === 'number' ? version : 1 } }));
    }), propertyParameters('stored text round trip', 300));
  });
});

describe('stored metadata read', () => {
  // Each field well-formed, of another type, or absent; now and then a key the codec does not know.
  const field = (valid: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: valid }, json, fc.constantFrom(undefined, null, -1, 1.5, 2 ** 53, 8_640_000_000_000_001, 'x'));
  const metadataLike = fc.record({
    commandId: field(awkwardString), timestamp: field(fc.integer({ min: 0, max: 2 ** 48 })), actor: field(awkwardString),
    correlationId: field(awkwardString), causationId: field(awkwardString), fingerprint: field(fc.stringMatching(/^[0-9a-f]{64}$/)), other: json,
  }, { requiredKeys: ['commandId', 'timestamp', 'actor'] });
  const reference = (data: unknown, metadata: unknown) => {
    const decoded = decodeWith(StoredMetadataCodec)(metadata);
    return E.isLeft(decoded) ? decoded : E.right(readMetadataOf(data, expandMetadata(decoded.right)));
  };

  it('is what io-ts decodes, expands and stamps with the data\'s schema version, keys in the same order', () => {
    fc.assert(fc.property(fc.oneof({ weight: 6, arbitrary: metadataLike }, json), fc.oneof(json, fc.record({ schemaVersion: fc.oneof(fc.integer(), json) })), (metadata, data) => {
      const read = readStoredMetadata(data, metadata);
      const expected = reference(data, metadata);
      expect(read).toEqual(expected);
      if (E.isRight(read) && E.isRight(expected)) expect(Object.keys(read.right)).toEqual(Object.keys(expected.right));
    }), propertyParameters('stored metadata read', 500));
  });
});

describe('the hash chain over stored text', () => {
  const event = (n: number, prevHash: string) => sealed(prevHash, { type: 'Deposited', data: { amount: String(n) }, metadata: { commandId: `c${n}`, correlationId: `c${n}`, causationId: `c${n}`, timestamp: n, actor: 'a' } });
  const chainOf = (count: number) => {
    const events = [];
    let prev = GENESIS_HASH;
    for (let n = 0; n < count; n++) {
      const sealedEvent = event(n, prev);
      events.push({ ...sealedEvent, metadata: { ...sealedEvent.metadata, schemaVersion: 1 }, streamId: 'pool-x', revision: BigInt(n), position: BigInt(n + 1) });
      prev = sealedEvent.hash;
    }
    return events;
  };

  it('is sha256 over the previous hash (64 hex digits) followed by the stored text', () => {
    const [first] = chainOf(1);
    expect(first!.hash).toBe(chainHash(GENESIS_HASH, first!.text));
    expect(first!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('seals an event from its data\'s canonical text as it seals the event: the same text, hash and data', () => {
    const data = { amount: '5', accountId: 'a' };
    const metadata = { commandId: 'c', correlationId: 'c', causationId: 'c', timestamp: 1, actor: 'a' };
    let built = 0;
    const fromText = sealedText(GENESIS_HASH, { type: 'Deposited', dataText: canonicalText(data), data: () => { built++; return data; }, metadata });
    const reference = sealed(GENESIS_HASH, { type: 'Deposited', data, metadata });
    expect(built).toBe(0);
    expect({ ...fromText }).toEqual(reference);
    expect(fromText.data).toBe(data);
    expect(built).toBe(1);
  });

  it('verifies an unbroken run and names the first edited or missing event', () => {
    const events = chainOf(5);
    expect(verifyChain(events)).toEqual({ ok: true, lastHash: events[4]!.hash });
    expect(verifyChain(events.slice(2), { hash: events[1]!.hash, revision: 1n })).toEqual({ ok: true, lastHash: events[4]!.hash });
    const edited = events.map((e, i) => (i === 2 ? { ...e, text: e.text.replace('"2"', '"20"') } : e));
    expect(verifyChain(edited)).toMatchObject({ ok: false, position: 3n, reason: 'hash does not match the event' });
    const missing = events.filter((_, i) => i !== 2);
    expect(verifyChain(missing)).toMatchObject({ ok: false, position: 4n, reason: 'prevHash does not match the previous event' });
    // Chained onto another event (revisions renumbered): its hash does not recompute.
    const spliced = missing.map((e, i) => ({ ...e, revision: BigInt(i) }));
    expect(verifyChain(spliced)).toMatchObject({ ok: false, position: 4n, reason: 'hash does not match the event' });
  });
});
