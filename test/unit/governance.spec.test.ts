// Governance commands need ed25519 signatures by `threshold` distinct governor keys over the
// canonical JSON of the command without its signatures. Anything less appends nothing.

import { describe, expect, it } from 'vitest';
import { canonicalJson, signingPayload, units, type ChangeParameters } from '../../domain/index.js';
import { generateGovernorKey, signCommand } from '../../services/governance-keys.js';
import {
  active, addTranche, apply, BTC, changeParameters, createPool, deposit, given, governorKeys, listMarket, stake, standardPool, thenError, thenEvents, trade, when,
} from '../support/builders.js';

const [k1, k2, k3] = governorKeys;
const raise = (): ChangeParameters => changeParameters({ markets: [{ marketId: BTC, maintenanceMarginPpm: 60_000, initialMarginPpm: 120_000 }] });

describe('canonical JSON', () => {
  it('sorts keys at every level and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('is what governors sign: the wire form without signatures', () => {
    const command = signCommand(raise(), k1);
    const payload = signingPayload(command).toString('utf8');
    expect(payload).not.toContain('signatures');
    expect(payload.startsWith('{"commandId":')).toBe(true);
    expect(payload).toContain('"maintenanceMarginPpm":60000');
  });
});

describe('signature checks', () => {
  const pool = standardPool();

  it('accepts two distinct governors of three, and applies the change', () => {
    const signed = signCommand(raise(), k1, k3);
    const after = apply(pool, when(pool, signed));
    expect(active(after.state).markets.get(BTC)).toMatchObject({ maintenanceMarginPpm: 60_000, initialMarginPpm: 120_000 });
  });

  it('rejects a command with no signature', () => {
    thenError(when(pool, raise()), 'MISSING_SIGNATURES', 'signatures');
  });

  it('rejects one signature under a threshold of two', () => {
    thenError(when(pool, signCommand(raise(), k2)), 'INSUFFICIENT_SIGNATURES', 'signatures');
  });

  it('rejects the same key twice, which does not make two signers', () => {
    const once = signCommand(raise(), k1);
    thenError(when(pool, { ...once, signatures: [once.signatures[0]!, once.signatures[0]!] }), 'DUPLICATE_SIGNATURE', 'signatures.1.publicKey');
  });

  it('rejects a forged signature: signed, then changed', () => {
    const signed = signCommand(raise(), k1, k2);
    const tampered: ChangeParameters = { ...signed, markets: [{ marketId: BTC, maintenanceMarginPpm: 10_000, initialMarginPpm: 20_000 }] };
    thenError(when(pool, tampered), 'INVALID_SIGNATURE', 'signatures.0.signature');
    const wrongBytes = { ...signed, signatures: [signed.signatures[0]!, { ...signed.signatures[1]!, signature: '00'.repeat(64) }] };
    thenError(when(pool, wrongBytes), 'INVALID_SIGNATURE', 'signatures.1.signature');
  });

  it('rejects a key that is not a governor of the pool, however valid its signature', () => {
    thenError(when(pool, signCommand(raise(), k1, generateGovernorKey())), 'UNKNOWN_SIGNER', 'signatures.1.publicKey');
  });

  it('checks every governance command: listing, tranches, recapitalization, and pool creation (by the root governors)', () => {
    thenError(when(given(createPool()), { ...listMarket(), signatures: [] }), 'MISSING_SIGNATURES');
    thenError(when(pool, { ...addTranche('mezz', 2, 1), signatures: [] }), 'MISSING_SIGNATURES');
    const outsider = generateGovernorKey();
    thenError(when(given(), signCommand({ ...createPool(), signatures: [] }, outsider, k1)), 'UNKNOWN_SIGNER');
  });
});

describe('parameter changes', () => {
  it('validates what they change', () => {
    const history = standardPool();
    const bad = (changes: Parameters<typeof changeParameters>[0]) => when(history, signCommand(changeParameters(changes), k1, k2));
    thenError(bad({ markets: [{ marketId: BTC, maintenanceMarginPpm: 200_000 }] }), 'INVALID_PARAMETER', 'markets.0.initialMarginPpm');
    thenError(bad({ markets: [{ marketId: 'DOGE-PERP', takerFeePpm: 1 }] }), 'UNKNOWN_MARKET', 'markets.0.marketId');
    thenError(bad({ pool: { feeShare: { baseFundSharePpm: 10, maxFundSharePpm: 5, targetCoveragePpm: 1 } } }), 'INVALID_PARAMETER', 'pool.feeShare.maxFundSharePpm');
    thenError(bad({ pool: { governors: { publicKeys: [k1.publicKey], threshold: 2 } } }), 'INVALID_PARAMETER', 'pool.governors.threshold');
    thenError(bad({ pool: { trancheWeights: [{ trancheId: 'mezz', incomeWeight: 1 }] } }), 'UNKNOWN_TRANCHE', 'pool.trancheWeights.0.trancheId');
  });

  it('new tranche weights change how fund income is split', () => {
    // weights junior 1, senior 1: the 3 of fund income from a 15 taker fee splits 1.5 / 1.5
    const history = standardPool(deposit('alice', '10000'), deposit('bob', '10000'));
    const reweighted = apply(history, when(history, signCommand(changeParameters({
      pool: { trancheWeights: [{ trancheId: 'junior', incomeWeight: 1 }, { trancheId: 'senior', incomeWeight: 1 }] },
      markets: [{ marketId: BTC, makerFeePpm: 0 }],
    }), k1, k2)));
    const traded = apply(reweighted, when(reweighted, trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000' })));
    expect(active(traded.state).tranches.map((t) => t.assets)).toEqual([units('1.5'), units('1.5')]);
  });

  it('a tranche added as most junior absorbs losses first', () => {
    const history = standardPool(stake('lp', 'junior', '100'));
    const added = apply(history, when(history, addTranche('first-loss', 5, 0)));
    expect(active(added.state).tranches.map((t) => t.trancheId)).toEqual(['first-loss', 'junior', 'senior']);
    thenError(when(added, addTranche('junior', 1, 0, 3)), 'TRANCHE_ALREADY_EXISTS', 'trancheId');
    thenError(when(added, addTranche('top', 1, 4, 3)), 'INVALID_PARAMETER', 'seniority');
    thenEvents(when(added, addTranche('top', 1, 3, 3)));
  });
});
