import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCommand, decodeEvent, encodeCommand, encodeEvent, MAX_JSON_DEPTH, parseJson, type InvalidInput } from '../../domain/index.js';
import { createPool, deposit, listMarket, standardPool, trade } from '../support/builders.js';

const wireTrade = {
  type: 'ExecuteTrade', schemaVersion: 1, commandId: 'c-1', poolId: 'main', tradeId: 't-1', marketId: 'BTC-PERP',
  taker: 'alice', maker: 'bob', takerSide: 'buy', size: '0.5', price: '30000.25',
};

const rejected = (input: unknown): InvalidInput => {
  const result = decodeCommand(input);
  if (E.isRight(result)) throw new Error('input was accepted');
  expect(result.left.code).toBe('INVALID_INPUT');
  return result.left;
};

describe('command codecs', () => {
  it('decode decimal strings into exact ledger units', () => {
    const result = decodeCommand(wireTrade);
    expect(E.isRight(result) && result.right).toMatchObject({ size: 500000000000000000n, price: 30000250000000000000000n });
  });

  it('round-trip every command through its wire form', () => {
    for (const command of [createPool(), listMarket(), deposit('alice', '10.5'), trade({ taker: 'a', maker: 'b', side: 'sell', size: '1', price: '2' })]) {
      const wire = JSON.parse(JSON.stringify(encodeCommand(command)));
      expect(decodeCommand(wire)).toEqual(E.right(command));
    }
  });

  it.each([
    ['size', '1e3', 'not a plain decimal'],
    ['size', '0x10', 'not a plain decimal'],
    ['price', ' 5', 'not a plain decimal'],
    ['price', '+5', 'not a plain decimal'],
    ['size', '', 'empty string'],
    ['size', '-1', 'must not be negative'],
    ['size', '0', 'greater than zero'],
    ['size', 5, 'expected a decimal string, got 5'],
    ['price', '10000000000000000000000000', 'above the allowed maximum'],
    ['takerSide', 'long', 'expected Side'],
    ['taker', 'has space', 'expected an id'],
  ])('name the bad field: %s = %j', (field, value, why) => {
    const error = rejected({ ...wireTrade, [field]: value });
    expect(error.errors).toHaveLength(1);
    expect(error.errors[0]!.path).toBe(field);
    expect(error.errors[0]!.message).toContain(why);
  });

  it('names nested paths, missing fields and unknown fields', () => {
    const pool = encodeCommand(createPool()) as Record<string, unknown>;
    const error = rejected({ ...pool, tranches: [{ trancheId: 'junior', incomeWeight: 0 }], governors: { publicKeys: [] } });
    expect(error.errors.map((e) => e.path)).toEqual(['tranches.0.incomeWeight', 'governors.threshold']);
    expect(rejected({ ...wireTrade, price: undefined }).errors).toEqual([{ path: 'price', message: 'required field is missing' }]);
    expect(rejected({ ...wireTrade, sise: '1' }).errors).toEqual([{ path: 'sise', message: 'unknown field "sise"' }]);
  });

  it('reject unknown command types, wrong schema versions and non-objects', () => {
    expect(rejected({ ...wireTrade, type: 'Steal' }).errors[0]).toMatchObject({ path: 'type' });
    expect(rejected({ ...wireTrade, schemaVersion: 2 }).errors[0]).toMatchObject({ path: 'schemaVersion' });
    expect(rejected([1, 2]).errors[0]).toMatchObject({ path: '(root)' });
    expect(rejected(null).errors[0]).toMatchObject({ path: '(root)' });
    expect(rejected({ ...wireTrade, type: '__proto__' }).errors[0]).toMatchObject({ path: 'type' });
  });
});

describe('event codecs', () => {
  it('round-trip every event of a history, with postings, through JSON', () => {
    const history = standardPool(deposit('alice', '1000'), deposit('bob', '1000'), trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '0.1', price: '30000' }));
    for (const event of history.events) {
      const json = JSON.parse(JSON.stringify(encodeEvent(event)));
      expect(decodeEvent(json)).toEqual(E.right(event));
    }
  });

  it('reject a stored event with a float amount, naming the field', () => {
    const history = standardPool(deposit('alice', '1000'));
    const stored = encodeEvent(history.events[2]!) as Record<string, unknown>;
    const result = decodeEvent({ ...stored, amount: 1000.5 });
    expect(E.isLeft(result) && result.left.errors[0]!.path).toBe('amount');
  });
});

describe('JSON at the boundary (parseJson)', () => {
  const refusedJson = (text: string) => {
    const result = parseJson(text);
    if (E.isRight(result)) throw new Error('text was accepted');
    expect(result.left.code).toBe('INVALID_INPUT');
    return result.left.errors[0]!;
  };

  it('refuses a key repeated within one object, naming it, even when spelt with an escape', () => {
    expect(refusedJson('{"type":"Deposit","amount":"1","amount":"1000000"}')).toEqual({ path: 'amount', message: 'duplicate key "amount"' });
    expect(refusedJson('{"a":{"b":[1,{"c":1,"c":2}]}}').path).toBe('a.b.1.c');
    expect(refusedJson('{"a\\u0062":1,"ab":2}').path).toBe('ab');
  });

  it('compares a plain key with an escaped spelling of it either way round, and keeps escaped keys apart', () => {
    expect(refusedJson('{"ab":1,"a\\u0062":2}')).toEqual({ path: 'ab', message: 'duplicate key "ab"' });
    expect(refusedJson('{"a\\"b":1,"a\\u0022b":2}').path).toBe('a"b');
    expect(parseJson('{"a\\\\b":1,"a\\\\\\\\b":2,"a\\"":3,"a":4}')).toEqual(E.right({ 'a\\b': 1, 'a\\\\b': 2, 'a"': 3, a: 4 }));
  });

  it('accepts the same key in different objects, and quotes and braces inside strings', () => {
    expect(parseJson('[{"a":1},{"a":2},{"b":{"a":"x\\"}{["}}]')).toEqual(E.right([{ a: 1 }, { a: 2 }, { b: { a: 'x"}{[' } }]));
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH without exhausting the stack', () => {
    const deep = `{"amount":${'['.repeat(5000)}1${']'.repeat(5000)}}`;
    expect(refusedJson(deep).message).toBe(`nested more than ${MAX_JSON_DEPTH} levels deep`);
    expect(E.isRight(parseJson(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`))).toBe(true);
  });

  it('describes a number too large for a double as Infinity, not null', () => {
    const result = decodeCommand(JSON.parse(JSON.stringify({ ...wireTrade, size: 1 }).replace('"size":1', '"size":1e400')));
    expect(E.isLeft(result) && result.left.errors[0]!.message).toBe('expected a decimal string, got Infinity');
  });
});
