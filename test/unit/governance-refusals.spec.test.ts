// Every refusal of a governance command, given / when / then: the code, the field it names and
// the message people read, and each bound accepted where it is allowed exactly.

import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJson, decide, initialState, units, SCHEMA_VERSION, type Command, type PayFromFund } from '../../domain/index.js';
import { generateGovernorKey, signCommand } from '../../services/governance-keys.js';
import {
  addTranche, BTC, changeParameters, createPool, ctx, given, governorKeys, listMarket, recapitalize, rootKeys, signed, stake, standardPool,
  thenError, thenEvents, when,
} from '../support/builders.js';

const [k1, k2, k3] = governorKeys;
const message = (decision: ReturnType<typeof when>, code: Parameters<typeof thenError>[1], field: string): string => thenError(decision, code, field).message;

describe('pool creation', () => {
  it('needs root governors, a free pool id, a tranche, distinct tranche ids and governor keys, and a fund share range', () => {
    expect(message(decide(createPool(), initialState, { ...ctx, rootGovernors: undefined }), 'ROOT_GOVERNORS_NOT_CONFIGURED', 'signatures'))
      .toBe('no root governors are configured, so no pool can be created');
    expect(message(when(standardPool(), createPool()), 'POOL_ALREADY_EXISTS', 'poolId')).toBe('pool "main" already exists');
    const refused = (overrides: Parameters<typeof createPool>[0]) => decide(createPool(overrides), initialState, ctx);
    expect(message(refused({ tranches: [] }), 'INVALID_PARAMETER', 'tranches')).toBe('a pool needs at least one tranche');
    expect(message(refused({ tranches: [{ trancheId: 'a', incomeWeight: 1 }, { trancheId: 'b', incomeWeight: 1 }, { trancheId: 'a', incomeWeight: 2 }] }), 'INVALID_PARAMETER', 'tranches.2.trancheId'))
      .toBe('tranche ids must be unique');
    expect(message(refused({ feeShare: { baseFundSharePpm: 200_000, maxFundSharePpm: 199_999, targetCoveragePpm: 1 } }), 'INVALID_PARAMETER', 'feeShare.maxFundSharePpm'))
      .toBe('maxFundSharePpm must be at least baseFundSharePpm');
    expect(message(refused({ governors: { publicKeys: [k1.publicKey, k2.publicKey, k1.publicKey], threshold: 2 } }), 'INVALID_PARAMETER', 'governors.publicKeys.2'))
      .toBe('governor keys must be distinct');
    expect(message(refused({ governors: { publicKeys: [k1.publicKey, k2.publicKey], threshold: 3 } }), 'INVALID_PARAMETER', 'governors.threshold'))
      .toBe('threshold 3 exceeds the 2 governor keys');
    // the bounds themselves: a fund share range of one value, a threshold of every key
    expect(E.isRight(refused({ feeShare: { baseFundSharePpm: 200_000, maxFundSharePpm: 200_000, targetCoveragePpm: 1 }, governors: { publicKeys: [k1.publicKey, k2.publicKey], threshold: 2 } }))).toBe(true);
  });
});

describe('market listing', () => {
  const pool = given(createPool());

  it('refuses a market listed twice, decimals beyond 18 together, margins out of order, a rebate above the taker fee, and values off their precision', () => {
    expect(message(when(standardPool(), listMarket({ governanceSeq: 2 })), 'MARKET_ALREADY_LISTED', 'marketId')).toBe('market "BTC-PERP" is already listed');
    expect(message(when(pool, listMarket({ sizeDecimals: 10, priceDecimals: 9 })), 'INVALID_PARAMETER', 'priceDecimals'))
      .toBe('sizeDecimals + priceDecimals must not exceed 18, so that notional is exact');
    expect(message(when(pool, listMarket({ maintenanceMarginPpm: 0 })), 'INVALID_PARAMETER', 'maintenanceMarginPpm')).toBe('maintenance margin must be above zero');
    expect(message(when(pool, listMarket({ initialMarginPpm: 49_999 })), 'INVALID_PARAMETER', 'initialMarginPpm')).toBe('initial margin must be at least the maintenance margin');
    expect(message(when(pool, listMarket({ makerFeePpm: -501 })), 'INVALID_PARAMETER', 'makerFeePpm')).toBe('a maker rebate of 501 ppm exceeds the taker fee of 500 ppm it is paid from');
    expect(message(when(pool, listMarket({ markPrice: units('30000.001') })), 'PRECISION_EXCEEDED', 'markPrice')).toBe('markPrice 30000.001 has more than 2 decimal places');
    expect(message(when(pool, listMarket({ fundDrawCap: units('0.0000001') })), 'PRECISION_EXCEEDED', 'fundDrawCap')).toBe('fundDrawCap 0.0000001 has more than 6 decimal places');
  });

  it('accepts each bound exactly: 18 decimals together, initial equal to maintenance, a rebate equal to the taker fee', () => {
    const listed = thenEvents(when(pool, listMarket({ sizeDecimals: 10, priceDecimals: 8, initialMarginPpm: 50_000, makerFeePpm: -500, markPrice: units('30000'), fundDrawCap: units('0.000001') })));
    expect(listed).toMatchObject([{ type: 'MarketListed', sizeDecimals: 10, priceDecimals: 8, initialMarginPpm: 50_000, maintenanceMarginPpm: 50_000, makerFeePpm: -500, fundDrawCap: units('0.000001') }]);
    // the bounds left out take the defaults
    expect(listed[0]).toMatchObject({ maxLiquidationSpreadPpm: 100_000, maxMarkMovePpm: 200_000, maxFundingRatePpm: 7_500 });
  });
});

describe('parameter changes', () => {
  const history = standardPool();
  const change = (changes: Parameters<typeof changeParameters>[0]) => when(history, signed(changeParameters(changes)));

  it('name the market, tranche or field that is wrong', () => {
    expect(message(change({ markets: [{ marketId: 'DOGE-PERP', takerFeePpm: 1 }] }), 'UNKNOWN_MARKET', 'markets.0.marketId')).toBe('market "DOGE-PERP" is not listed');
    expect(message(change({ markets: [{ marketId: BTC, takerFeePpm: 1 }, { marketId: BTC, makerFeePpm: 1 }] }), 'INVALID_PARAMETER', 'markets.1.marketId'))
      .toBe('a market may appear once');
    expect(message(change({ markets: [{ marketId: BTC, maintenanceMarginPpm: 0 }] }), 'INVALID_PARAMETER', 'markets.0.maintenanceMarginPpm'))
      .toBe('maintenance margin must be above zero');
    expect(message(change({ markets: [{ marketId: BTC, fundDrawCap: units('1.0000001') }] }), 'PRECISION_EXCEEDED', 'markets.0.fundDrawCap'))
      .toBe('markets.0.fundDrawCap 1.0000001 has more than 6 decimal places');
    expect(message(change({ pool: { trancheWeights: [{ trancheId: 'mezz', incomeWeight: 1 }] } }), 'UNKNOWN_TRANCHE', 'pool.trancheWeights.0.trancheId'))
      .toBe('tranche "mezz" does not exist');
    expect(message(change({ pool: { trancheWeights: [{ trancheId: 'junior', incomeWeight: 1 }, { trancheId: 'junior', incomeWeight: 2 }] } }), 'INVALID_PARAMETER', 'pool.trancheWeights.1.trancheId'))
      .toBe('tranche ids must be unique');
    expect(message(change({ pool: { governors: { publicKeys: [k1.publicKey, k1.publicKey], threshold: 1 } } }), 'INVALID_PARAMETER', 'pool.governors.publicKeys.1'))
      .toBe('governor keys must be distinct');
  });

  it('accept a cap on the quote precision and a market changed once', () => {
    expect(thenEvents(change({ markets: [{ marketId: BTC, fundDrawCap: units('1.000001') }] }))).toMatchObject([{ type: 'ParametersChanged', governanceSeq: 2 }]);
  });
});

describe('tranches, recapitalization and payouts', () => {
  const history = standardPool(stake('lp1', 'junior', '100'));

  it('refuse an existing tranche id, a seniority beyond the most senior, an unknown tranche and an amount off the quote precision', () => {
    expect(message(when(history, addTranche('junior', 1, 0)), 'TRANCHE_ALREADY_EXISTS', 'trancheId')).toBe('tranche "junior" already exists');
    expect(message(when(history, addTranche('top', 1, 3)), 'INVALID_PARAMETER', 'seniority')).toBe('seniority must be from 0 (most junior) to 2 (most senior)');
    expect(message(when(history, recapitalize('mezz', '1')), 'UNKNOWN_TRANCHE', 'trancheId')).toBe('tranche "mezz" does not exist');
    expect(message(when(history, recapitalize('junior', '1.0000001')), 'PRECISION_EXCEEDED', 'amount')).toBe('amount 1.0000001 has more than 6 decimal places');
  });

  it('a payout names what holds too little', () => {
    let counter = 0;
    const payout = (fields: Partial<PayFromFund>): Command => signed({
      type: 'PayFromFund', schemaVersion: SCHEMA_VERSION, commandId: `refusal-${++counter}`, poolId: 'main', recipient: { kind: 'external' },
      amount: units('1'), reason: 'claim', governanceRef: 'ref', governanceSeq: 2, signatures: [], ...fields,
    } as PayFromFund);
    expect(message(when(history, payout({ amount: units('100.000001') })), 'INSUFFICIENT_FUND', 'amount')).toBe('the fund holds 100, less than 100.000001');
    expect(message(when(history, payout({ trancheId: 'senior' })), 'INSUFFICIENT_FUND', 'amount')).toBe('tranche "senior" holds 0, less than 1');
    expect(message(when(history, payout({ trancheId: 'mezz' })), 'UNKNOWN_TRANCHE', 'trancheId')).toBe('tranche "mezz" does not exist');
    expect(message(when(history, payout({ amount: units('0.0000001') })), 'PRECISION_EXCEEDED', 'amount')).toBe('amount 0.0000001 has more than 6 decimal places');
    // the whole fund, exactly
    expect(thenEvents(when(history, payout({ amount: units('100') })))).toMatchObject([{ type: 'FundPaidOut', draws: [{ trancheId: 'junior', amount: units('100'), writtenOff: true }] }]);
  });
});

describe('signature refusals say which key and why', () => {
  const history = standardPool();
  const raise = () => changeParameters({ markets: [{ marketId: BTC, takerFeePpm: 600 }] });

  it('missing, duplicated, unknown, invalid and too few signatures', () => {
    expect(message(when(history, raise()), 'MISSING_SIGNATURES', 'signatures')).toBe('ChangeParameters must be signed by 2 governor keys');
    const once = signCommand(raise(), k1);
    expect(message(when(history, { ...once, signatures: [once.signatures[0]!, once.signatures[0]!] }), 'DUPLICATE_SIGNATURE', 'signatures.1.publicKey'))
      .toBe(`key ${k1.publicKey} signed more than once`);
    const outsider = generateGovernorKey();
    expect(message(when(history, signCommand(raise(), k1, outsider)), 'UNKNOWN_SIGNER', 'signatures.1.publicKey')).toBe(`key ${outsider.publicKey} is not a governor of this pool`);
    const both = signCommand(raise(), k1, k3);
    const forged = { ...both, signatures: [both.signatures[0]!, { ...both.signatures[1]!, signature: '00'.repeat(64) }] };
    expect(message(when(history, forged), 'INVALID_SIGNATURE', 'signatures.1.signature')).toBe(`the signature by ${k3.publicKey} does not match the command`);
    expect(message(when(history, once), 'INSUFFICIENT_SIGNATURES', 'signatures')).toBe('1 valid signatures, 2 required');
    // the root governors create a pool with both their keys; one of them is not enough
    expect(message(decide(signCommand({ ...createPool(), signatures: [] }, rootKeys[0]), initialState, ctx), 'INSUFFICIENT_SIGNATURES', 'signatures'))
      .toBe('1 valid signatures, 2 required');
  });

  it('canonical JSON leaves out undefined fields, separates array entries and refuses what has no JSON form', () => {
    expect(canonicalJson({ a: undefined, b: [1, 'x', null], c: { d: undefined } })).toBe('{"b":[1,"x",null],"c":{}}');
    expect(canonicalJson([])).toBe('[]');
    expect(() => canonicalJson(() => 1)).toThrow('canonicalJson: function has no JSON form');
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
