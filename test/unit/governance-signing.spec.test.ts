// Which commands are governance commands, and how a signature is verified: a malformed key or
// signature is a failed verification, never a crash, and each governor key is parsed once,
// however many signatures it is checked against (a spy on node:crypto counts the parses).

import { describe, expect, it, vi } from 'vitest';
import * as crypto from 'node:crypto';
import { isGovernanceCommand, signatureVerifies, signingPayload, SCHEMA_VERSION, type Command, type PayFromFund } from '../../domain/index.js';
import { generateGovernorKey, signCommand } from '../../services/governance-keys.js';
import {
  addTranche, BTC, changeParameters, completeUnstake, createPool, deposit, governorKeys, liquidate, listMarket, mark, recapitalize, stake, trade, withdraw,
} from '../support/builders.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, createPublicKey: vi.fn(actual.createPublicKey) };
});

const payout: PayFromFund = {
  type: 'PayFromFund', schemaVersion: SCHEMA_VERSION, commandId: 'payout-1', poolId: 'main', recipient: { kind: 'external' },
  amount: 1_000_000_000_000_000_000n, reason: 'claim', governanceRef: 'ref', governanceSeq: 2, signatures: [],
};

describe('governance commands', () => {
  it('given each of the six governance command types, then each is one; given the other commands, then none is', () => {
    const governance: Command[] = [createPool(), listMarket(), changeParameters({}), addTranche('mezz', 1, 1), recapitalize('junior', '1'), payout];
    expect(governance.map((c) => c.type)).toEqual(['CreatePool', 'ListMarket', 'ChangeParameters', 'AddTranche', 'Recapitalize', 'PayFromFund']);
    for (const command of governance) expect(isGovernanceCommand(command), command.type).toBe(true);
    const others: Command[] = [
      deposit('alice', '1'), withdraw('alice', '1'), mark('30000'), stake('lp1', 'junior', '1'), completeUnstake('r1'), liquidate('alice', '30000'),
      trade({ taker: 'alice', maker: 'bob', side: 'buy', size: '1', price: '30000', marketId: BTC }),
    ];
    for (const command of others) expect(isGovernanceCommand(command), command.type).toBe(false);
  });
});

describe('signature verification', () => {
  const [k1] = governorKeys;
  const command = signCommand(changeParameters({ markets: [{ marketId: BTC, takerFeePpm: 600 }] }), k1);
  const payload = signingPayload(command);
  const { publicKey, signature } = command.signatures[0]!;

  it('given a valid signature, then it verifies; given another payload, then it does not', () => {
    expect(signatureVerifies(payload, publicKey, signature)).toBe(true);
    expect(signatureVerifies(Buffer.concat([payload, Buffer.from(' ')]), publicKey, signature)).toBe(false);
  });

  it('given a malformed key (not hex, too short, empty), then the verification fails without a throw', () => {
    for (const malformed of ['zz', 'ab'.repeat(31), '']) expect(signatureVerifies(payload, malformed, signature), malformed).toBe(false);
  });

  it('given the same fresh key checked three times, then it is parsed once', () => {
    const fresh = generateGovernorKey();
    const signedByFresh = signCommand(changeParameters({ markets: [{ marketId: BTC, takerFeePpm: 700 }] }), fresh);
    const freshPayload = signingPayload(signedByFresh);
    const parse = vi.mocked(crypto.createPublicKey);
    const parsesOf = (hex: string): number =>
      parse.mock.calls.filter(([input]) => JSON.stringify(input).includes(Buffer.from(hex, 'hex').toString('base64url'))).length;
    expect(parsesOf(fresh.publicKey)).toBe(0);
    for (let i = 0; i < 3; i++) expect(signatureVerifies(freshPayload, fresh.publicKey, signedByFresh.signatures[0]!.signature)).toBe(true);
    expect(parsesOf(fresh.publicKey)).toBe(1);
    // a failed verification with the same key parses nothing more
    expect(signatureVerifies(payload, fresh.publicKey, signature)).toBe(false);
    expect(parsesOf(fresh.publicKey)).toBe(1);
  });
});
