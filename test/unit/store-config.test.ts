import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import { storeConfigFrom } from '../../services/ledger/store-config.js';

describe('store configuration from the environment', () => {
  it('defaults to the embedded store under ./data', () => {
    expect(storeConfigFrom({})).toEqual(E.right({ kind: 'sqlite', path: 'data/events.sqlite' }));
    expect(storeConfigFrom({ DATA_DIR: '/var/lib/ledger' })).toEqual(E.right({ kind: 'sqlite', path: '/var/lib/ledger/events.sqlite' }));
  });

  it('uses EventStoreDB when EVENTSTORE_URL is set', () => {
    expect(storeConfigFrom({ EVENTSTORE_URL: 'esdb://localhost:2113?tls=false', DATA_DIR: '/x' })).toEqual(E.right({ kind: 'eventstoredb', url: 'esdb://localhost:2113?tls=false' }));
  });

  it('refuses a malformed value, naming the variable', () => {
    const bad = storeConfigFrom({ EVENTSTORE_URL: 'http://localhost:2113' });
    expect(E.isLeft(bad) && bad.left.errors[0]!.path).toBe('EVENTSTORE_URL');
    const empty = storeConfigFrom({ DATA_DIR: ' ' });
    expect(E.isLeft(empty) && empty.left.errors[0]!.path).toBe('DATA_DIR');
  });
});
