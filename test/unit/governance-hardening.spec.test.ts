// Given/when/then specifications of the hardened governance rules: every governance command after
// a pool's creation takes the pool's next governance sequence number (signed, so it applies once,
// in its place, or never); a pool is created only by the deployment's root governors; a request
// cannot make the pool verify more signatures than it has governor keys; and every governance
// event records what an auditor needs to re-verify its approval.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  approvalProblem, decide, decodeCommand, encodeCommand, initialState, signingPayload, MAX_GOVERNORS,
  type ChangeParameters, type Event, type GovernorSignature,
} from '../../domain/index.js';
import { signCommand } from '../../services/governance-keys.js';
import {
  active, apply, BTC, changeParameters, createPool, ctx, given, governorKeys, recapitalize, rootGovernors, rootKeys, signed, standardPool,
  thenError, thenEvents, when,
} from '../support/builders.js';

const [k1, k2, k3] = governorKeys;
const feeChange = (baseFundSharePpm: number, governanceSeq: number): ChangeParameters =>
  signed(changeParameters({ pool: { feeShare: { baseFundSharePpm, maxFundSharePpm: 500_000, targetCoveragePpm: 50_000 } }, governanceSeq }));

describe('the governance sequence', () => {
  // The standard pool: created (sequence 0), BTC-PERP listed (1); the next command takes 2.
  const pool = standardPool();

  it('a command taking the next number is applied, and the pool remembers it', () => {
    const after = apply(pool, when(pool, feeChange(100_000, 2)));
    expect(active(after.state).governanceSeq).toBe(2);
    expect(active(after.state).feeShare.baseFundSharePpm).toBe(100_000);
  });

  it('a replayed command (the same signed command, already applied) is refused', () => {
    const command = feeChange(100_000, 2);
    const after = apply(pool, when(pool, command));
    const error = thenError(when(after, command), 'GOVERNANCE_SEQUENCE_MISMATCH', 'governanceSeq');
    expect(error.message).toBe('expected governance sequence 3, got 2');
  });

  it('an out-of-order command (the sequence + 2) is refused', () => {
    const error = thenError(when(pool, feeChange(100_000, 3)), 'GOVERNANCE_SEQUENCE_MISMATCH', 'governanceSeq');
    expect(error.message).toBe('expected governance sequence 2, got 3');
  });

  it('a stale fee change (signed at a sequence since taken) cannot roll the fee back', () => {
    // Governors sign a change to 10% (sequence 2) that is never sent, then one to 30% that is.
    const stale = feeChange(100_000, 2);
    const current = apply(pool, when(pool, feeChange(300_000, 2)));
    const after = apply(current, when(current, feeChange(250_000, 3)));
    thenError(when(after, stale), 'GOVERNANCE_SEQUENCE_MISMATCH', 'governanceSeq');
    expect(active(after.state).feeShare.baseFundSharePpm).toBe(250_000);
  });

  it('the sequence number is signed: changing it breaks the signatures', () => {
    const command = feeChange(100_000, 3);
    thenError(when(pool, { ...command, governanceSeq: 2 }), 'INVALID_SIGNATURE', 'signatures.0.signature');
    expect(signingPayload(command).toString('utf8')).toContain('"governanceSeq":3');
  });

  it('every sequenced command is checked: listing, tranches, recapitalization', () => {
    thenError(when(pool, recapitalize('junior', '100', 1)), 'GOVERNANCE_SEQUENCE_MISMATCH', 'governanceSeq');
    thenEvents(when(pool, recapitalize('junior', '100', 2)));
  });
});

describe('pool creation by the root governors', () => {
  it('is accepted when the root governors sign, whatever governors the pool names', () => {
    const [created] = thenEvents(when(given(), createPool()));
    expect(created).toMatchObject({ type: 'PoolCreated', rootGovernors });
  });

  it('is refused when signed only by the keys the command names (not root)', () => {
    // The builder's pool names governors k1, k2 and k3 (threshold 2): two of them sign.
    const byOwnKeys = signCommand({ ...createPool(), signatures: [] }, k1, k2);
    thenError(when(given(), byOwnKeys), 'UNKNOWN_SIGNER', 'signatures.0.publicKey');
  });

  it('is refused when no root governors are configured, however it is signed', () => {
    const { rootGovernors: _root, ...noRoot } = ctx;
    const decision = decide(createPool(), initialState, noRoot);
    expect(E.isLeft(decision) && decision.left).toMatchObject({ code: 'ROOT_GOVERNORS_NOT_CONFIGURED' });
  });

  it('the attack: creating an unused pool id with keys of one\'s own, then minting into it, is refused at the creation', () => {
    const attacker = signCommand({ ...createPool({ poolId: 'main', governors: { publicKeys: [k3.publicKey], threshold: 1 } }), signatures: [] }, k3);
    thenError(when(given(), attacker), 'UNKNOWN_SIGNER');
  });
});

describe('more signatures than governor keys', () => {
  const pool = standardPool();
  const garbage = (publicKey: string): GovernorSignature => ({ publicKey, signature: randomBytes(64).toString('hex') });

  it('700 signatures are refused before any is verified', () => {
    const command = changeParameters({ markets: [{ marketId: BTC, takerFeePpm: 0 }] });
    // The same garbage, three of it, is verified and fails as INVALID_SIGNATURE ...
    const three = [k1, k2, k3].map((k) => garbage(k.publicKey));
    thenError(when(pool, { ...command, signatures: three }), 'INVALID_SIGNATURE', 'signatures.0.signature');
    // ... while 700 entries are refused on their count alone.
    const many = Array.from({ length: 700 }, (_, i) => garbage(i < 3 ? governorKeys[i]!.publicKey : randomBytes(32).toString('hex')));
    const started = process.hrtime.bigint();
    const error = thenError(when(pool, { ...command, signatures: many }), 'TOO_MANY_SIGNATURES', 'signatures');
    expect(error.message).toBe('700 signatures for 3 governor keys');
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(50);
  });

  it('one more signature than keys is refused', () => {
    const command = signCommand(changeParameters({ markets: [{ marketId: BTC, takerFeePpm: 0 }] }), k1, k2, k3);
    thenError(when(pool, { ...command, signatures: [...command.signatures, command.signatures[0]!] }), 'TOO_MANY_SIGNATURES', 'signatures');
  });

  it('the codec bounds the signatures array', () => {
    const wire = encodeCommand(changeParameters({})) as Record<string, unknown>;
    const many = Array.from({ length: MAX_GOVERNORS + 1 }, () => ({ publicKey: '11'.repeat(32), signature: '22'.repeat(64) }));
    const decoded = decodeCommand({ ...wire, signatures: many });
    expect(E.isLeft(decoded) && decoded.left.errors[0]).toMatchObject({ path: 'signatures', message: `expected at most ${MAX_GOVERNORS} entries, got ${MAX_GOVERNORS + 1}` });
  });
});

describe('governance events record their approval', () => {
  it('each records the command as signed (signatures and sequence), which re-verifies from the event alone', () => {
    const create = createPool();
    const [poolCreated] = thenEvents(when(given(), create));
    expect(poolCreated).toMatchObject({ signedCommand: create, rootGovernors });
    expect(approvalProblem(poolCreated!, initialState, create.commandId)).toBeUndefined();
    const pool = standardPool();
    const command = signCommand(changeParameters({ markets: [{ marketId: BTC, takerFeePpm: 0 }] }), k1, k3);
    const [changed] = thenEvents(when(pool, command));
    expect(changed).toMatchObject({ type: 'ParametersChanged', governanceSeq: 2, signedCommand: { governanceSeq: 2, signatures: command.signatures } });
    expect(approvalProblem(changed!, pool.state, command.commandId)).toBeUndefined();
  });

  it('an altered signature, a different command id, other fields or another root set do not re-verify', () => {
    const pool = standardPool();
    const command = signCommand(changeParameters({ markets: [{ marketId: BTC, takerFeePpm: 0 }] }), k1, k3);
    const [changed] = thenEvents(when(pool, command)) as [Extract<Event, { type: 'ParametersChanged' }>];
    const [first, second] = changed.signedCommand.signatures;
    const forged = { ...changed, signedCommand: { ...changed.signedCommand, signatures: [{ ...first!, signature: '00'.repeat(64) }, second!] } };
    expect(approvalProblem(forged, pool.state, command.commandId)).toContain('INVALID_SIGNATURE');
    expect(approvalProblem(changed, pool.state, 'another-command')).toContain('belongs to command "another-command"');
    expect(approvalProblem({ ...changed, markets: [{ marketId: BTC, takerFeePpm: 1 }] }, pool.state, command.commandId)).toContain('is not the event its signed command gives');
    const [created] = thenEvents(when(given(), createPool()));
    expect(approvalProblem(created!, initialState, (created as Extract<Event, { type: 'PoolCreated' }>).signedCommand.commandId, { publicKeys: [rootKeys[0].publicKey], threshold: 1 }))
      .toContain('not the expected');
  });
});
