// The read models (docs/design.md section 8) as documents: plain JSON, amounts as decimal strings, each
// stamped with the position of the last event applied to it. They are built by a fold over the
// log (foldEvent) that keeps the pool's domain state alongside, so every figure comes from the
// domain's own arithmetic rather than a second copy of it.
//
// The fold only marks which documents an event changed (a dirty set per pool, with the position,
// and for fund health the time, of the last event that changed each); takeDocuments builds each
// marked document once, from the state as it then is, when the documents are to be stored. A
// document depends only on figures that change with the events that mark it, so one built at the
// end of a batch is the one the batch's last event marking it would have built: byte for byte.
//
// What a document stores is what events change; what depends on the current marks (uPnL,
// equity, margin ratio, liquidation and bankruptcy prices, ADL rank) is derived when the document
// is read (accountView), since a mark update would otherwise rewrite every holder's document.

import { evolveOnBook } from '../domain/book/evolve-on-book.js';
import { PoolBook } from '../domain/book/pool-book.js';
import {
  adlQueue, canonicalJson, encodeEvent, forEachTradePosting, isGovernanceEvent, equityOf, fundAssets, fundCapRemaining, fundDrawnInWindow, fundFeeShare, formatDecimal, initialState, marketsOf, marginOf, mulDivFloor, notional,
  ONE, PPM, ppmOfNotionalCeil, PROTOCOL_STAKER, stakeOf, unrealizedPnl, unsettledFunding, unstakePayout,
  type Account, type ActivePool, type CompactTrade, type Event, type GovernanceEvent, type Market, type PoolState, type Position, type ReplayEvent,
  type TradePostingSink,
} from '../domain/index.js';

export type Collection = 'fund-health' | 'tranches' | 'accounts' | 'markets';

export interface HistoryEntry {
  readonly kind: 'liquidation' | 'adl' | 'haircut' | 'funding' | 'payout';
  readonly position: string;
  readonly timestamp: number;
  /** The market (for a payout: the governance reference). */
  readonly marketId: string;
  /**
   * liquidation: the size closed; adl: the size given up (signed change); haircut: the amount
   * taken; funding: the amount settled (received positive, paid negative); payout: the amount paid.
   */
  readonly amount: string;
  readonly price?: string;
  /** adl: what the fill cost this account against closing at the mark (negative: it gained). */
  readonly lossAtMark?: string;
  /** liquidation with ADL: what ADL cost the counterparties against the mark, and the deficit it covered. */
  readonly adlLossAtMark?: string;
  readonly adlDeficitCovered?: string;
  /** payout: why, as governance decided it. */
  readonly reason?: string;
}

export interface AccountDocument {
  readonly poolId: string;
  readonly accountId: string;
  readonly collateral: string;
  readonly positions: ReadonlyArray<{ readonly marketId: string; readonly size: string; readonly entryNotional: string }>;
  readonly history: ReadonlyArray<HistoryEntry>;
}

export interface MarketDocument {
  readonly poolId: string;
  readonly marketId: string;
  readonly mark: string;
  readonly longSize: string;
  readonly shortSize: string;
  /** Long size at mark, ledger units. */
  readonly openInterest: string;
  /** Cumulative funding per unit of size (what a long held since listing has paid). */
  readonly fundingIndex?: string;
}

export interface TrancheDocument {
  readonly poolId: string;
  readonly trancheId: string;
  readonly seniority: number;
  readonly incomeWeight: number;
  readonly assets: string;
  readonly shares: string;
  /** assets / shares, 18 decimals, rounded down ("1" when there are no shares). */
  readonly sharePrice: string;
  /** Fund income received (fees, penalties) and losses absorbed (draws), since the start. */
  readonly income: string;
  readonly losses: string;
  readonly stakers: ReadonlyArray<{ readonly stakerId: string; readonly shares: string }>;
  /**
   * `value` is what the request would pay if completed now (0 once its epoch was written off);
   * `valueAtRequest` what the shares were worth when requested, the most it can pay.
   */
  readonly pendingUnstakes: ReadonlyArray<{
    readonly requestId: string; readonly stakerId: string; readonly shares: string; readonly value: string; readonly valueAtRequest: string;
    readonly writtenOff: boolean; readonly availableAt: number;
  }>;
}

export interface FundHealthPoint {
  /** Start of the bucket, ms since the epoch. */
  readonly bucket: number;
  readonly fundAssets: string;
  readonly openInterest: string;
  /** Integer ppm as a decimal string: the ratio is unbounded, so it can outgrow a JSON number. */
  readonly coveragePpm: string;
  readonly badDebt: string;
  /** Cover-2: what the fund would have to cover if the two largest accounts defaulted under the shock. */
  readonly stressDeficit: string;
}

export interface FundHealthDocument {
  readonly poolId: string;
  readonly tranches: ReadonlyArray<{ readonly trancheId: string; readonly assets: string }>;
  readonly fundAssets: string;
  readonly openInterest: string;
  /** fund assets / open interest in ppm (null without open interest). */
  readonly coveragePpm: string | null;
  readonly fundFeeSharePpm: number;
  readonly draws: { readonly count: number; readonly total: string };
  /**
   * ADL measured, over every liquidation: what it cost its counterparties against the mark, the
   * part of the deficits it covered, and their ratio in integer ppm (null before any ADL).
   */
  readonly adl: { readonly count: number; readonly fills: number; readonly lossAtMark: string; readonly deficitCovered: string; readonly ratioPpm: string | null };
  /** Each market's claim on the fund: its cap (null: none), its window (0: in total), what it drew. */
  readonly marketCaps: ReadonlyArray<{
    readonly marketId: string;
    readonly fundDrawCap: string | null;
    readonly fundDrawWindowMs: number;
    readonly drawnTotal: string;
    /** Drawn within the window as of this document's last event (in total without a window). */
    readonly drawnInWindow: string;
    readonly capRemaining: string | null;
  }>;
  /** Payouts governance made from the fund, oldest first, each with its reason and reference. */
  readonly payouts: {
    readonly count: number;
    readonly total: string;
    readonly history: ReadonlyArray<{
      readonly position: string;
      readonly timestamp: number;
      readonly amount: string;
      readonly recipient: string;
      readonly reason: string;
      readonly governanceRef: string;
      readonly draws: ReadonlyArray<{ readonly trancheId: string; readonly amount: string }>;
    }>;
  };
  readonly socialized: { readonly count: number; readonly total: string };
  readonly badDebt: string;
  readonly treasury: string;
  /** Deficits of liquidations, and the part of them ADL covered (what the fund, socialization and bad debt did not). */
  readonly deficits: { readonly count: number; readonly total: string; readonly coveredByAdl: string };
  /** As stored: sampled at the first event of each minute (the HTTP API answers the current one). */
  readonly stressDeficit: string;
  /** One point per hour: the figures after the last event of the hour. */
  readonly series: ReadonlyArray<FundHealthPoint>;
}

/** A point of the fund-health history: the figures after the last event of its bucket. */
export interface FundHealthSample {
  /** Start of the bucket, ms since the epoch. */
  readonly bucket: number;
  /** The log position of the last event in the bucket. */
  readonly position: string;
  readonly tranches: ReadonlyArray<{ readonly trancheId: string; readonly assets: string }>;
  readonly fundAssets: string;
  readonly openInterest: string;
  readonly coveragePpm: string | null;
  readonly fundFeeSharePpm: number;
  readonly treasury: string;
  /** Running totals since the pool was created. */
  readonly draws: { readonly count: number; readonly total: string };
  readonly adl: { readonly count: number; readonly fills: number; readonly coveredByAdl: string; readonly lossAtMark: string };
  readonly deficits: { readonly count: number; readonly total: string };
  readonly socialized: { readonly count: number; readonly total: string };
  readonly badDebt: string;
  /** Cover-2 at the default shock, sampled at the first event of each minute. */
  readonly stressDeficit: string;
}

export type Resolution = '1m' | '1h' | '1d';
/** Bucket width and how many buckets each history keeps (a week of minutes, 400 days of hours, 10 years of days). */
export const resolutions: Readonly<Record<Resolution, { readonly ms: number; readonly keep: number }>> = {
  '1m': { ms: 60_000, keep: 7 * 1440 },
  '1h': { ms: 3_600_000, keep: 400 * 24 },
  '1d': { ms: 86_400_000, keep: 3650 },
};
const RESOLUTIONS = Object.keys(resolutions) as Resolution[];

/** One movement of an account, as its history shows it. */
export interface Movement {
  readonly kind: 'deposit' | 'withdrawal' | 'trade' | 'liquidation' | 'takeover' | 'adl' | 'haircut' | 'funding' | 'payout';
  readonly position: string;
  readonly timestamp: number;
  readonly marketId?: string;
  /** deposit, withdrawal, haircut, payout: the amount; funding: the amount settled (received positive, paid negative). */
  readonly amount?: string;
  /** The signed change of the account's position (trade, liquidation, takeover, adl). */
  readonly size?: string;
  readonly price?: string;
  /** trade: the account's fee; liquidation: the penalty. */
  readonly fee?: string;
  readonly tradeId?: string;
  readonly role?: 'taker' | 'maker';
  /** payout: why, and the governance reference. */
  readonly reason?: string;
  readonly governanceRef?: string;
}

/** A governance change as the log recorded it, with who signed it. */
export interface GovernanceChange {
  readonly type: GovernanceEvent['type'];
  /** 0 for the pool's creation. */
  readonly governanceSeq: number;
  readonly position: string;
  readonly timestamp: number;
  /** Public keys of the governors whose signatures approved it. */
  readonly signers: ReadonlyArray<string>;
  /** The event's fields (without the signed command, postings and header). */
  readonly changes: Readonly<Record<string, unknown>>;
}

export type Document =
  | { readonly collection: 'fund-health'; readonly id: string; readonly position: bigint; readonly body: FundHealthDocument }
  | { readonly collection: 'tranches'; readonly id: string; readonly position: bigint; readonly body: TrancheDocument }
  | { readonly collection: 'accounts'; readonly id: string; readonly position: bigint; readonly body: AccountDocument }
  | { readonly collection: 'markets'; readonly id: string; readonly position: bigint; readonly body: MarketDocument };

export interface ProjectionOptions {
  /** Width of a fund-health series bucket, ms (default one hour). */
  readonly bucketMs?: number;
  /** The price shock of the Cover-2 stress test, ppm against the holders (default 30%). */
  readonly stressShockPpm?: number;
  /** Per-market shocks that override stressShockPpm. */
  readonly stressShockByMarket?: Readonly<Record<string, number>>;
  /** Points kept in the series (default 720: a month of hours). */
  readonly seriesLength?: number;
}

type PayoutRecord = FundHealthDocument['payouts']['history'][number];

export interface PoolAggregates {
  readonly draws: { count: number; total: bigint };
  readonly adl: { count: number; fills: number; lossAtMark: bigint; deficitCovered: bigint };
  /** history is replaced, never changed in place, so documents can share it. */
  readonly payouts: { count: number; total: bigint; history: ReadonlyArray<PayoutRecord> };
  readonly socialized: { count: number; total: bigint };
  readonly deficits: { count: number; total: bigint };
  readonly income: Map<string, bigint>;
  readonly losses: Map<string, bigint>;
  /**
   * The series' points of closed buckets, oldest first (trimmed in batches; documents copy what
   * they show), and the point of the newest bucket, formatted when a document is built.
   */
  readonly series: FundHealthPoint[];
  newestPoint: RawPoint | undefined;
  readonly histories: Map<string, HistoryEntry[]>;
  /** Every movement of each account, oldest first (exact; formatted when read). */
  readonly movements: Map<string, RawMovement[]>;
  readonly governance: GovernanceChange[];
  /** The fund-health history at each resolution, oldest first (trimmed to its `keep`), formatted when read. */
  readonly timelines: Record<Resolution, RawSample[]>;
}

/** A series point as kept for the newest bucket: exact figures, formatted when a document is built. */
interface RawPoint {
  readonly bucket: number;
  readonly fundAssets: bigint;
  readonly openInterest: bigint;
  readonly badDebt: bigint;
  readonly stressDeficit: bigint;
}

/** The documents of a pool that events changed since they were last built: by id, the position of the last such event. */
export interface DirtySet {
  readonly accounts: Map<string, bigint>;
  readonly markets: Map<string, bigint>;
  tranches: bigint | undefined;
  fundHealth: { readonly position: bigint; readonly timestamp: number } | undefined;
}

/** Everything the fold carries from one event to the next, per pool. */
export interface ProjectionModel {
  readonly pools: Map<string, PoolEntry>;
}

/** A pool as the fold carries it. */
export interface PoolEntry {
  state: PoolState;
  readonly aggregates: PoolAggregates;
  readonly dirty: DirtySet;
  /** What the Cover-2 scans of the pool keep between scans (derived from the state; a cache). */
  cover2?: Cover2Cache;
}

/**
 * The fold's pool entry: the state is kept as a pool book (domain/book), which the fold evolves
 * in place (evolveOnBook); reading `state` folds the book's changes into the persistent state
 * `evolve` would have given, and assigning one starts the book over it.
 */
class FoldedPool implements PoolEntry {
  book: PoolBook;
  cover2?: Cover2Cache;
  /**
   * The accounts trades, deposits and withdrawals changed since the last Cover-2 scan (the only
   * accounts they change), or 'all' after any other event, or a new state: the scan then checks
   * every account.
   */
  cover2Changed: Set<string> | 'all' = 'all';
  /** Each account's positions as its document last showed them (a cache: see positionsDocument). */
  readonly positionDocuments = new Map<string, PositionDocuments>();

  constructor(state: PoolState, readonly aggregates: PoolAggregates, readonly dirty: DirtySet) {
    this.book = PoolBook.of(state);
  }

  get state(): PoolState {
    return this.book.toPool();
  }

  set state(state: PoolState) {
    this.book = PoolBook.of(state);
    this.cover2Changed = 'all';
  }

  /** Note what an event changed for the next Cover-2 scan. */
  noteForCover2(event: ReplayEvent): void {
    const changed = this.cover2Changed;
    if (changed === 'all') return;
    switch (event.type) {
      case 'TradeExecuted':
        // A trade's draft touches its two sides and nothing else of the accounts.
        changed.add(event.taker);
        changed.add(event.maker);
        return;
      case 'CollateralDeposited':
      case 'CollateralWithdrawn':
        changed.add(event.accountId);
        return;
      case 'MarkPriceUpdated':
      case 'CommandRejected':
        return;
      default:
        this.cover2Changed = 'all';
    }
  }

  /** Cover-2 now, from the book: the rows of the accounts changed since the last scan brought up to date first. */
  stressDeficit(shock: (marketId: string) => number): bigint {
    const cache = (this.cover2 ??= emptyCover2Cache());
    const book = this.book;
    const changed = this.cover2Changed;
    // A new account (no row yet) takes its place in the pool's order: the persistent state says where.
    if (changed === 'all' || !refreshAccounts(cache, book, changed)) sweepAccounts(cache, this.state as ActivePool);
    this.cover2Changed = new Set();
    return deficitOfLargestTwo(book, book.active!.markets.keys(), shock, cache);
  }
}

export const emptyModel = (): ProjectionModel => ({ pools: new Map() });

const emptyDirtySet = (): DirtySet => ({ accounts: new Map(), markets: new Map(), tranches: undefined, fundHealth: undefined });

const docId = (poolId: string, id: string) => `${poolId}/${id}`;

/** What Cover-2 reads of a pool: its accounts and markets by id (a persistent state or the fold's book). */
interface Cover2Pool {
  readonly accounts: { get(accountId: string): Account | undefined };
  readonly markets: { get(marketId: string): Market | undefined };
}

/**
 * Cover-2: the two accounts with the largest notional, valued after every mark moves against
 * each of their positions by `shockPpm`; the deficit is what their equity would fall short of zero.
 * Of accounts with equal notional the first met counts. Only those two are valued under the shock.
 */
export const stressDeficit = (pool: ActivePool, shock: number | ((marketId: string) => number), cache: Cover2Cache = emptyCover2Cache()): bigint => {
  sweepAccounts(cache, pool);
  return deficitOfLargestTwo(pool, pool.markets.keys(), shock, cache);
};

/** The two largest accounts' shortfall under the shock. */
const deficitOfLargestTwo = (pool: Cover2Pool, listed: ReadonlyArray<string>, shock: number | ((marketId: string) => number), cache: Cover2Cache): bigint => {
  const shockOf = typeof shock === 'number' ? () => shock : shock;
  const markets = marketsOf(pool);
  const [first, second] = largestTwo(pool, listed, cache);
  const shortfall = (account: Account): bigint => {
    let shocked = account.collateral;
    for (const p of account.positions) {
      const market = markets(p.marketId);
      if (market === undefined) continue;
      shocked += unsettledFunding(p, market);
      const shockPpm = BigInt(shockOf(p.marketId));
      const moved = p.size > 0n ? market.mark - mulDivFloor(market.mark, shockPpm, PPM) : market.mark + mulDivFloor(market.mark, shockPpm, PPM);
      shocked += notional(p.size, moved) - p.entryNotional;
    }
    return shocked < 0n ? -shocked : 0n;
  };
  return (first === undefined ? 0n : shortfall(first)) + (second === undefined ? 0n : shortfall(second));
};

/**
 * What Cover-2 scans of one pool keep from scan to scan, densely: every account of the pool has a
 * row, in the order the pool's accounts iterate (the order ties go by), with the account value its
 * figures are from, its number of positions, and in one column per market (slot) the |size| of its
 * position there as a double (0 for none). Account values are never changed (a change makes a new
 * one), so a row holds while its account value is the pool's: a scan converts only the accounts
 * events changed since the one before, then runs down the columns. Only ever a cache: a fresh one
 * gives the same result.
 */
export interface Cover2Cache {
  readonly slots: Map<string, number>;
  readonly rows: Map<string, number>;
  readonly accounts: Account[];
  readonly counts: number[];
  /** By slot, by row: |size| as a double; each as long as `capacity`. */
  readonly columns: Float64Array[];
  capacity: number;
}

export const emptyCover2Cache = (): Cover2Cache => ({ slots: new Map(), rows: new Map(), accounts: [], counts: [], columns: [], capacity: 0 });

const slotOf = (cache: Cover2Cache, marketId: string): number => {
  let slot = cache.slots.get(marketId);
  if (slot === undefined) {
    slot = cache.slots.size;
    cache.slots.set(marketId, slot);
    cache.columns.push(new Float64Array(cache.capacity));
  }
  return slot;
};

const clearCover2Cache = (cache: Cover2Cache): void => {
  cache.rows.clear();
  cache.accounts.length = 0;
  cache.counts.length = 0;
  for (const column of cache.columns) column.fill(0);
};

/** A row's |size| in one market: over the account's positions there (one, or none). */
const sumMarket = (cache: Cover2Cache, row: number, positions: ReadonlyArray<Position>, marketId: string): void => {
  let size = 0;
  for (const p of positions) if (p.marketId === marketId) size += Math.abs(Number(p.size));
  cache.columns[slotOf(cache, marketId)]![row] = size;
};

/** Give `account` (a new value of the row's account, or a new account at the end) its figures. */
const writeRow = (cache: Cover2Cache, row: number, account: Account): void => {
  if (row >= cache.capacity) {
    const capacity = Math.max(1024, cache.capacity * 2, row + 1);
    for (let slot = 0; slot < cache.columns.length; slot++) {
      const wider = new Float64Array(capacity);
      wider.set(cache.columns[slot]!);
      cache.columns[slot] = wider;
    }
    cache.capacity = capacity;
  }
  // Position values are never changed either: only the markets where one came or went are
  // summed again (a trade changes one), each from every position the account holds there.
  // A draft keeps the positions it did not change in their order and puts the changed ones last,
  // so each list is first looked for in place or one step off, then anywhere.
  const before = row < cache.accounts.length ? cache.accounts[row]!.positions : [];
  const positions = account.positions;
  for (let k = 0; k < before.length; k++) {
    const p = before[k]!;
    if (positions[k] !== p && positions[k - 1] !== p && !positions.includes(p)) sumMarket(cache, row, positions, p.marketId);
  }
  for (let k = 0; k < positions.length; k++) {
    const p = positions[k]!;
    if (before[k] !== p && before[k + 1] !== p && !before.includes(p)) sumMarket(cache, row, positions, p.marketId);
  }
  cache.accounts[row] = account;
  cache.counts[row] = account.positions.length;
};

/**
 * Bring every row up to date with `pool`: rows for every account in the pool's iteration order,
 * each holding the pool's account value. Rows are rebuilt from scratch if the pool's order is not
 * theirs (a cache used with another pool).
 */
const sweepAccounts = (cache: Cover2Cache, pool: ActivePool): void => {
  const accounts = pool.accounts.values();
  let row = 0;
  for (const account of accounts) {
    const kept = cache.rows.get(account.accountId);
    if (kept !== row) {
      if (kept !== undefined || row !== cache.accounts.length) {
        clearCover2Cache(cache);
        sweepAccounts(cache, pool);
        return;
      }
      cache.rows.set(account.accountId, row);
      writeRow(cache, row, account);
    } else if (cache.accounts[row] !== account) {
      writeRow(cache, row, account);
    }
    row++;
  }
  if (row !== cache.accounts.length) {
    clearCover2Cache(cache);
    sweepAccounts(cache, pool);
  }
};

/**
 * Bring the rows of the given accounts up to date from a view of the pool (the fold's book), when
 * those are the only accounts changed since the rows were last brought up to date; false when
 * one of them has no row (a new account: its place in the pool's order is the pool's to say).
 */
const refreshAccounts = (cache: Cover2Cache, pool: Cover2Pool, changed: Iterable<string>): boolean => {
  for (const accountId of changed) {
    const row = cache.rows.get(accountId);
    const account = pool.accounts.get(accountId);
    if (row === undefined || account === undefined) return false;
    if (cache.accounts[row] !== account) writeRow(cache, row, account);
  }
  return true;
};

/**
 * The two accounts with positions whose notional at mark (the sum of |size| * mark / 1e18, each
 * rounded down) is largest; of equal ones, the first met. Every account is scanned, so notionals
 * are first estimated in doubles: with n positions the estimate of the sum of products P is
 * within (n + 3) roundings of P (two conversions and a product per term, n - 1 additions; the
 * terms of markets an account holds no position in are exact zeros, and add nothing), and the
 * floors take at most n units off. The bounds below allow four times that. Only accounts whose
 * upper bound reaches the second-largest lower bound can be among the two; those are compared
 * exactly, in the order met. The rows must be up to date.
 */
const largestTwo = (pool: Cover2Pool, listed: ReadonlyArray<string>, cache: Cover2Cache): [Account | undefined, Account | undefined] => {
  const marks = new Map<string, bigint>();
  const rows = cache.accounts.length;
  // Each row's sum of |size| * mark over the listed markets, one column at a time.
  const products = new Float64Array(rows);
  for (const marketId of listed) {
    const market = pool.markets.get(marketId);
    if (market === undefined) continue;
    marks.set(marketId, market.mark);
    const approx = Number(market.mark);
    const column = cache.columns[slotOf(cache, marketId)]!;
    for (let row = 0; row < rows; row++) products[row]! += column[row]! * approx;
  }
  const uppers = new Float64Array(rows);
  let lower1 = -Infinity;
  let lower2 = -Infinity;
  for (let row = 0; row < rows; row++) {
    const n = cache.counts[row]!;
    if (n === 0) continue;
    const estimate = products[row]!;
    const tolerance = estimate * (n + 3) * 2 ** -50;
    const lower = estimate - 2 * tolerance - 4 * (n + 1) * 1e18;
    uppers[row] = estimate + 2 * tolerance;
    if (lower > lower1) {
      lower2 = lower1;
      lower1 = lower;
    } else if (lower > lower2) {
      lower2 = lower;
    }
  }
  let first: { readonly account: Account; readonly notional: bigint } | undefined;
  let second: { readonly account: Account; readonly notional: bigint } | undefined;
  for (let row = 0; row < rows; row++) {
    if (cache.counts[row] === 0 || uppers[row]! < lower2) continue;
    const account = cache.accounts[row]!;
    let exposure = 0n;
    for (const p of account.positions) {
      const mark = marks.get(p.marketId);
      if (mark !== undefined) exposure += notional(p.size < 0n ? -p.size : p.size, mark);
    }
    if (first === undefined || exposure > first.notional) {
      second = first;
      first = { account, notional: exposure };
    } else if (second === undefined || exposure > second.notional) {
      second = { account, notional: exposure };
    }
  }
  return [first?.account, second?.account];
};

/** The Cover-2 shock of a market: its own, else the default (30%). */
export const shockOf = (options: ProjectionOptions) => (marketId: string): number =>
  options.stressShockByMarket?.[marketId] ?? options.stressShockPpm ?? 300_000;

const coverage = (pool: ActivePool): string | null =>
  pool.openInterest === 0n ? null : ((fundAssets(pool) * PPM) / pool.openInterest).toString();

const marketDocument = (pool: ActivePool, marketId: string, position: bigint): Document | undefined => {
  const market = pool.markets.get(marketId);
  if (market === undefined) return undefined;
  return {
    collection: 'markets', id: docId(pool.poolId, marketId), position,
    body: {
      poolId: pool.poolId, marketId, mark: formatDecimal(market.mark), longSize: formatDecimal(market.longSize),
      shortSize: formatDecimal(market.longSize), openInterest: formatDecimal(market.openInterest), fundingIndex: formatDecimal(market.fundingIndex),
    },
  };
};

type PositionDocument = AccountDocument['positions'][number];

/** An account's positions and their document form, item for item. */
interface PositionDocuments {
  readonly positions: ReadonlyArray<Position>;
  readonly documents: ReadonlyArray<PositionDocument>;
}

const positionDocument = (p: Position): PositionDocument => ({ marketId: p.marketId, size: formatDecimal(p.size), entryNotional: formatDecimal(p.entryNotional) });

/**
 * An account's positions as its document shows them. Position values are never changed (a change
 * makes a new one), so with a cache a position the account's last document showed is not
 * formatted again: an account document built after a trade formats the one position it changed.
 * (The document forms are immutable values, shared between versions of the document.)
 */
const positionsDocument = (cache: Map<string, PositionDocuments> | undefined, account: Account): ReadonlyArray<PositionDocument> => {
  if (cache === undefined) return account.positions.map(positionDocument);
  const previous = cache.get(account.accountId);
  if (previous !== undefined && previous.positions === account.positions) return previous.documents;
  const documents = account.positions.map((p) => {
    const k = previous === undefined ? -1 : previous.positions.indexOf(p);
    return k >= 0 ? previous!.documents[k]! : positionDocument(p);
  });
  cache.set(account.accountId, { positions: account.positions, documents });
  return documents;
};

const accountDocument = (pool: ActivePool, aggregates: PoolAggregates, accountId: string, position: bigint, cache?: Map<string, PositionDocuments>): Document | undefined => {
  const account = pool.accounts.get(accountId);
  if (account === undefined) return undefined;
  return {
    collection: 'accounts', id: docId(pool.poolId, accountId), position,
    body: {
      poolId: pool.poolId, accountId, collateral: formatDecimal(account.collateral),
      positions: positionsDocument(cache, account),
      history: aggregates.histories.get(accountId) ?? [],
    },
  };
};

const trancheDocuments = (pool: ActivePool, aggregates: PoolAggregates, position: bigint): Document[] =>
  pool.tranches.map((tranche, seniority) => ({
    collection: 'tranches' as const, id: docId(pool.poolId, tranche.trancheId), position,
    body: {
      poolId: pool.poolId, trancheId: tranche.trancheId, seniority, incomeWeight: tranche.incomeWeight,
      assets: formatDecimal(tranche.assets), shares: formatDecimal(tranche.shares),
      sharePrice: formatDecimal(tranche.shares === 0n ? ONE : mulDivFloor(tranche.assets, ONE, tranche.shares)),
      income: formatDecimal(aggregates.income.get(tranche.trancheId) ?? 0n),
      losses: formatDecimal(aggregates.losses.get(tranche.trancheId) ?? 0n),
      stakers: tranche.stakes.keys().sort()
        .map((stakerId) => ({ stakerId, shares: formatDecimal(stakeOf(tranche, stakerId)) }))
        .filter((s) => s.shares !== '0' || s.stakerId === PROTOCOL_STAKER),
      pendingUnstakes: pool.unstakeRequests.values()
        .filter((r) => r.trancheId === tranche.trancheId)
        .sort((a, b) => (a.requestId < b.requestId ? -1 : 1))
        .map((r) => ({
          requestId: r.requestId, stakerId: r.stakerId, shares: formatDecimal(r.shares), value: formatDecimal(unstakePayout(tranche, r)),
          valueAtRequest: formatDecimal(r.value), writtenOff: r.epoch !== tranche.epoch, availableAt: r.availableAt,
        })),
    },
  }));

/** The part of the deficits that ADL covered (what the ADL events record). */
const coveredByAdl = (aggregates: PoolAggregates): bigint => aggregates.adl.deficitCovered;

const formatPoint = (p: RawPoint): FundHealthPoint => ({
  bucket: p.bucket, fundAssets: formatDecimal(p.fundAssets), openInterest: formatDecimal(p.openInterest),
  coveragePpm: p.openInterest === 0n ? '0' : ((p.fundAssets * PPM) / p.openInterest).toString(),
  badDebt: formatDecimal(p.badDebt), stressDeficit: formatDecimal(p.stressDeficit),
});

/** The last `length` points of the series: the closed buckets' and the newest one. */
const seriesOf = (aggregates: PoolAggregates, length: number): FundHealthPoint[] => {
  const closed = aggregates.series.length > length ? aggregates.series.slice(-length) : aggregates.series;
  return aggregates.newestPoint === undefined ? closed.slice(-length) : [...closed, formatPoint(aggregates.newestPoint)].slice(-length);
};

const fundHealthDocument = (pool: ActivePool, aggregates: PoolAggregates, position: bigint, timestamp: number, options: ProjectionOptions): Document => {
  const series = seriesOf(aggregates, options.seriesLength ?? 720);
  const newest = series[series.length - 1];
  return {
    collection: 'fund-health', id: pool.poolId, position,
    body: {
      poolId: pool.poolId,
      tranches: pool.tranches.map((t) => ({ trancheId: t.trancheId, assets: formatDecimal(t.assets) })),
      fundAssets: formatDecimal(fundAssets(pool)),
      openInterest: formatDecimal(pool.openInterest),
      coveragePpm: coverage(pool),
      fundFeeSharePpm: fundFeeShare(pool),
      draws: { count: aggregates.draws.count, total: formatDecimal(aggregates.draws.total) },
      adl: {
        count: aggregates.adl.count, fills: aggregates.adl.fills,
        lossAtMark: formatDecimal(aggregates.adl.lossAtMark), deficitCovered: formatDecimal(aggregates.adl.deficitCovered),
        ratioPpm: aggregates.adl.deficitCovered === 0n ? null : ((aggregates.adl.lossAtMark * PPM) / aggregates.adl.deficitCovered).toString(),
      },
      marketCaps: pool.markets.values().sort((a, b) => (a.marketId < b.marketId ? -1 : 1)).map((m) => {
        const left = fundCapRemaining(m, timestamp);
        return {
          marketId: m.marketId, fundDrawCap: m.fundDrawCap === undefined ? null : formatDecimal(m.fundDrawCap), fundDrawWindowMs: m.fundDrawWindowMs,
          drawnTotal: formatDecimal(m.fundDrawnTotal), drawnInWindow: formatDecimal(fundDrawnInWindow(m, timestamp)),
          capRemaining: left === undefined ? null : formatDecimal(left),
        };
      }),
      payouts: { count: aggregates.payouts.count, total: formatDecimal(aggregates.payouts.total), history: aggregates.payouts.history },
      socialized: { count: aggregates.socialized.count, total: formatDecimal(aggregates.socialized.total) },
      badDebt: formatDecimal(pool.badDebt),
      treasury: formatDecimal(pool.treasury),
      deficits: { count: aggregates.deficits.count, total: formatDecimal(aggregates.deficits.total), coveredByAdl: formatDecimal(coveredByAdl(aggregates)) },
      stressDeficit: newest?.stressDeficit ?? '0',
      series,
    },
  };
};

/** Accounts an event concerns (whose document it changes). */
export const accountsOfEvent = (event: Event): string[] => {
  const accounts = new Set<string>();
  forEachTouchedAccount(event, (accountId) => accounts.add(accountId));
  return [...accounts];
};

/** Each account an event concerns (some more than once), without building lists: the fold calls this per event. */
const forEachTouchedAccount = (event: ReplayEvent, visit: (accountId: string) => void): void => {
  switch (event.type) {
    case 'CollateralDeposited':
    case 'CollateralWithdrawn':
    case 'FundingSettled':
      visit(event.accountId);
      return;
    case 'TradeExecuted':
      visit(event.taker);
      visit(event.maker);
      break;
    case 'PositionLiquidated':
      visit(event.accountId);
      visit(event.liquidatorId);
      break;
    case 'PositionsAutoDeleveraged':
      visit(event.accountId);
      for (const fill of event.fills) visit(fill.accountId);
      break;
    default:
      break;
  }
  if ('postings' in event) {
    for (const p of event.postings) {
      if ('accountId' in p.from) visit(p.from.accountId);
      if ('accountId' in p.to) visit(p.to.accountId);
    }
  }
};

const markAccounts = (accounts: Map<string, bigint>, event: ReplayEvent, position: bigint): void =>
  forEachTouchedAccount(event, (accountId) => accounts.set(accountId, position));

const marketOf = (event: ReplayEvent): string | undefined =>
  'marketId' in event && typeof event.marketId === 'string' ? event.marketId : undefined;

const record = (aggregates: PoolAggregates, accountId: string, entry: HistoryEntry) => {
  const history = aggregates.histories.get(accountId) ?? [];
  history.push(entry);
  aggregates.histories.set(accountId, history);
};

/** A movement as kept: amounts exact, formatted only when read. */
export type RawMovement = Omit<Movement, 'amount' | 'size' | 'price' | 'fee'> & {
  readonly amount?: bigint; readonly size?: bigint; readonly price?: bigint; readonly fee?: bigint;
};

export const formatMovement = ({ amount, size, price, fee, ...rest }: RawMovement): Movement => ({
  ...rest,
  ...(amount === undefined ? {} : { amount: formatDecimal(amount) }),
  ...(size === undefined ? {} : { size: formatDecimal(size) }),
  ...(price === undefined ? {} : { price: formatDecimal(price) }),
  ...(fee === undefined ? {} : { fee: formatDecimal(fee) }),
});

const move = (aggregates: PoolAggregates, accountId: string, movement: RawMovement) => {
  const movements = aggregates.movements.get(accountId);
  if (movements === undefined) aggregates.movements.set(accountId, [movement]);
  else movements.push(movement);
};

/** The movements an event makes in accounts' histories. */
const recordMovements = (aggregates: PoolAggregates, event: ReplayEvent, position: string, timestamp: number): void => {
  const at = { position, timestamp };
  switch (event.type) {
    case 'CollateralDeposited':
      move(aggregates, event.accountId, { kind: 'deposit', ...at, amount: event.amount });
      break;
    case 'CollateralWithdrawn':
      move(aggregates, event.accountId, { kind: 'withdrawal', ...at, amount: event.amount });
      break;
    case 'TradeExecuted': {
      const takerSize = event.takerSide === 'buy' ? event.size : -event.size;
      // Written out (no spreads): two per trade. The key order is the one movements are served in.
      const { marketId, tradeId, price } = event;
      move(aggregates, event.taker, { kind: 'trade', position, timestamp, marketId, tradeId, price, role: 'taker', size: takerSize, fee: event.takerFee });
      move(aggregates, event.maker, { kind: 'trade', position, timestamp, marketId, tradeId, price, role: 'maker', size: -takerSize, fee: event.makerFee });
      break;
    }
    case 'PositionLiquidated':
      move(aggregates, event.accountId, { kind: 'liquidation', ...at, marketId: event.marketId, size: -event.size, price: event.price, fee: event.penalty });
      if (event.liquidatorSize !== 0n) move(aggregates, event.liquidatorId, { kind: 'takeover', ...at, marketId: event.marketId, size: event.liquidatorSize, price: event.price });
      break;
    case 'PositionsAutoDeleveraged':
      for (const fill of event.fills) move(aggregates, fill.accountId, { kind: 'adl', ...at, marketId: event.marketId, size: fill.size, price: event.bankruptcyPrice });
      break;
    case 'LossSocialized':
      for (const p of event.postings) if (p.from.kind === 'collateral') move(aggregates, p.from.accountId, { kind: 'haircut', ...at, marketId: event.marketId, amount: p.amount });
      break;
    case 'FundingSettled':
      for (const settlement of event.settlements) move(aggregates, event.accountId, { kind: 'funding', ...at, marketId: settlement.marketId, amount: settlement.amount });
      break;
    case 'FundPaidOut':
      if (event.recipient.kind === 'account') {
        move(aggregates, event.recipient.accountId, { kind: 'payout', ...at, amount: event.amount, reason: event.reason, governanceRef: event.governanceRef });
      }
      break;
    default:
      break;
  }
};

/**
 * The change a governance event records, or undefined for other events. Its fields are given in
 * canonical order (keys sorted at every level): the order an event's fields arrive in depends on
 * the path (decided in process, or parsed from the sorted stored text) and, for what a command
 * carries through (tranches, markets), on the producer's JSON, and a read model must not.
 */
const governanceChange = (event: Event, position: string, timestamp: number): GovernanceChange | undefined => {
  if (!isGovernanceEvent(event)) return undefined;
  const { type: _type, schemaVersion: _version, signedCommand: _signed, postings: _postings, governanceSeq: _seq, ...changes } = encodeEvent(event) as Record<string, unknown>;
  return {
    type: event.type, governanceSeq: event.type === 'PoolCreated' ? 0 : event.governanceSeq, position, timestamp,
    signers: event.signedCommand.signatures.map((s) => s.publicKey),
    changes: JSON.parse(canonicalJson(changes)) as Record<string, unknown>,
  };
};

/** A history point as kept: exact figures, formatted only when read (an event must stay cheap). */
interface RawSample {
  readonly bucket: number;
  readonly position: string;
  readonly tranches: ReadonlyArray<{ readonly trancheId: string; readonly assets: bigint }>;
  readonly fundAssets: bigint;
  readonly openInterest: bigint;
  readonly fundFeeSharePpm: number;
  readonly treasury: bigint;
  readonly draws: { readonly count: number; readonly total: bigint };
  readonly adl: { readonly count: number; readonly fills: number; readonly lossAtMark: bigint; readonly deficitCovered: bigint };
  readonly deficits: { readonly count: number; readonly total: bigint };
  readonly socialized: { readonly count: number; readonly total: bigint };
  readonly badDebt: bigint;
  readonly stressDeficit: bigint;
}

/** The fund-health figures after an event. */
/** The pool-wide figures a sample reads (a pool book has them current). */
type FundFigures = Pick<ActivePool, 'tranches' | 'openInterest' | 'feeShare' | 'treasury' | 'badDebt'>;

const sampleOf = (pool: FundFigures, aggregates: PoolAggregates, bucket: number, position: string, assets: bigint, stress: bigint): RawSample => ({
  bucket, position,
  tranches: pool.tranches.map((t) => ({ trancheId: t.trancheId, assets: t.assets })),
  fundAssets: assets, openInterest: pool.openInterest, fundFeeSharePpm: fundFeeShare(pool), treasury: pool.treasury,
  draws: { ...aggregates.draws }, adl: { ...aggregates.adl }, deficits: { ...aggregates.deficits }, socialized: { ...aggregates.socialized },
  badDebt: pool.badDebt, stressDeficit: stress,
});

/** A sample as the fold writes it: the newest of a bucket is rewritten in place (see takeSample). */
type Writable<T> = { -readonly [K in keyof T]: T[K] extends ReadonlyArray<unknown> ? T[K] : T[K] extends object ? Writable<T[K]> : T[K] };

/** The sample of a bucket, rewritten with the figures after a later event of that bucket. */
const rewriteSample = (sample: Writable<RawSample>, pool: FundFigures, aggregates: PoolAggregates, position: string, assets: bigint, stress: bigint): void => {
  sample.position = position;
  const tranches = pool.tranches;
  const kept = sample.tranches;
  if (kept.length === tranches.length && kept.every((t, i) => t.trancheId === tranches[i]!.trancheId)) {
    for (let i = 0; i < tranches.length; i++) (kept[i] as Writable<RawSample['tranches'][number]>).assets = tranches[i]!.assets;
  } else {
    sample.tranches = tranches.map((t) => ({ trancheId: t.trancheId, assets: t.assets }));
  }
  sample.fundAssets = assets;
  sample.openInterest = pool.openInterest;
  sample.fundFeeSharePpm = fundFeeShare(pool);
  sample.treasury = pool.treasury;
  sample.draws.count = aggregates.draws.count;
  sample.draws.total = aggregates.draws.total;
  sample.adl.count = aggregates.adl.count;
  sample.adl.fills = aggregates.adl.fills;
  sample.adl.lossAtMark = aggregates.adl.lossAtMark;
  sample.adl.deficitCovered = aggregates.adl.deficitCovered;
  sample.deficits.count = aggregates.deficits.count;
  sample.deficits.total = aggregates.deficits.total;
  sample.socialized.count = aggregates.socialized.count;
  sample.socialized.total = aggregates.socialized.total;
  sample.badDebt = pool.badDebt;
  sample.stressDeficit = stress;
};

/**
 * Put the figures after an event in a timeline: they replace the sample of its bucket, or open
 * the next bucket. Every event that changes a fund figure does this, three times (one per
 * resolution), so the sample of a bucket is rewritten in place rather than made again: samples
 * are the fold's own (readers format copies of them; the checkpoint encodes them), and no two
 * timelines share one.
 */
const takeSample = (
  timeline: RawSample[], bucket: number, keep: number, pool: FundFigures, aggregates: PoolAggregates, position: string, assets: bigint, stress: bigint,
): void => {
  const newest = timeline[timeline.length - 1];
  if (newest !== undefined && newest.bucket === bucket) rewriteSample(newest as Writable<RawSample>, pool, aggregates, position, assets, stress);
  else {
    timeline.push(sampleOf(pool, aggregates, bucket, position, assets, stress));
    // Trimmed in batches, so that a full timeline does not shift on every event.
    if (timeline.length > keep + 64) timeline.splice(0, timeline.length - keep);
  }
};

const formatSample = (s: RawSample): FundHealthSample => ({
  bucket: s.bucket, position: s.position,
  tranches: s.tranches.map((t) => ({ trancheId: t.trancheId, assets: formatDecimal(t.assets) })),
  fundAssets: formatDecimal(s.fundAssets), openInterest: formatDecimal(s.openInterest),
  coveragePpm: s.openInterest === 0n ? null : ((s.fundAssets * PPM) / s.openInterest).toString(),
  fundFeeSharePpm: s.fundFeeSharePpm, treasury: formatDecimal(s.treasury),
  draws: { count: s.draws.count, total: formatDecimal(s.draws.total) },
  adl: { count: s.adl.count, fills: s.adl.fills, coveredByAdl: formatDecimal(s.adl.deficitCovered), lossAtMark: formatDecimal(s.adl.lossAtMark) },
  deficits: { count: s.deficits.count, total: formatDecimal(s.deficits.total) },
  socialized: { count: s.socialized.count, total: formatDecimal(s.socialized.total) },
  badDebt: formatDecimal(s.badDebt), stressDeficit: formatDecimal(s.stressDeficit),
});

/** Samples from `from` to `to` (inclusive, ms) at a resolution, at most `maxPoints`: the last sample of each group. */
export const fundHealthHistory = (aggregates: PoolAggregates, resolution: Resolution, from: number, to: number, maxPoints: number): FundHealthSample[] => {
  const timeline = aggregates.timelines[resolution];
  const keep = resolutions[resolution].keep;
  const inRange = timeline.slice(-keep).filter((s) => s.bucket >= from && s.bucket <= to);
  const step = Math.ceil(inRange.length / maxPoints);
  return (step <= 1 ? inRange : inRange.filter((_s, i) => (i + 1) % step === 0 || i === inRange.length - 1)).map(formatSample);
};

/** What a trade's postings add to the tranches' income (collateral -> tranche), in posting order. */
class TrancheIncome implements TradePostingSink {
  posted = false;
  constructor(private readonly income: Map<string, bigint>) {}
  notional(): void {}
  gain(): void {}
  loss(): void {}
  rebate(): void {}
  feeToTranche(_accountId: string, trancheId: string, amount: bigint): void {
    this.income.set(trancheId, (this.income.get(trancheId) ?? 0n) + amount);
    this.posted = true;
  }
  feeToTreasury(): void {}
}

/** Add a stored trade's fee parts to the tranches' income; whether it posted to a tranche. */
const trancheIncomeOf = (aggregates: PoolAggregates, trade: CompactTrade): boolean => {
  const income = new TrancheIncome(aggregates.income);
  forEachTradePosting(trade, trade, income);
  return income.posted;
};

/**
 * Apply one event of the log to the model, marking the documents it changes (built by
 * takeDocuments). The model is owned by the fold and mutated in place.
 */
export const foldEvent = (
  model: ProjectionModel,
  poolId: string,
  position: bigint,
  timestamp: number,
  event: ReplayEvent,
  options: ProjectionOptions = {},
): void => {
  // A recorded refusal changes no figure a read model shows.
  if (event.type === 'CommandRejected') return;
  const found = model.pools.get(poolId);
  let entry: FoldedPool;
  if (found instanceof FoldedPool) entry = found;
  else if (found !== undefined) {
    // An entry made elsewhere (a plain value): carried on as the fold's own.
    entry = new FoldedPool(found.state, found.aggregates, found.dirty);
    if (found.cover2 !== undefined) entry.cover2 = found.cover2;
    model.pools.set(poolId, entry);
  } else {
    entry = new FoldedPool(initialState, {
      draws: { count: 0, total: 0n }, adl: { count: 0, fills: 0, lossAtMark: 0n, deficitCovered: 0n }, socialized: { count: 0, total: 0n },
      deficits: { count: 0, total: 0n }, payouts: { count: 0, total: 0n, history: [] },
      income: new Map(), losses: new Map(), series: [], newestPoint: undefined, histories: new Map(), movements: new Map(), governance: [],
      timelines: { '1m': [], '1h': [], '1d': [] },
    }, emptyDirtySet());
    model.pools.set(poolId, entry);
  }
  const { aggregates, dirty, book } = entry;
  evolveOnBook(book, event);
  entry.noteForCover2(event);
  // The book's figures (tranches, totals, fee share) are current; its accounts and markets are
  // read through `entry.state`, which folds them into a persistent state.
  if (book.active === undefined) return;

  const at = position.toString();
  // Aggregates the documents carry beyond the state.
  let tranchesPosted = false;
  if ('postings' in event) {
    for (const p of event.postings) {
      if (p.to.kind === 'tranche' && p.from.kind === 'collateral') aggregates.income.set(p.to.trancheId, (aggregates.income.get(p.to.trancheId) ?? 0n) + p.amount);
      if (p.from.kind === 'tranche' && p.to.kind === 'collateral' && event.type !== 'FundPaidOut') aggregates.losses.set(p.from.trancheId, (aggregates.losses.get(p.from.trancheId) ?? 0n) + p.amount);
    }
    tranchesPosted = event.postings.some((p) => p.from.kind === 'tranche' || p.to.kind === 'tranche');
  } else if (event.type === 'TradeExecuted') {
    // A trade as stored: its postings, the same as above, read straight from its value flows.
    tranchesPosted = trancheIncomeOf(aggregates, event);
  }
  switch (event.type) {
    case 'InsuranceFundDrawn':
      aggregates.draws.count++;
      aggregates.draws.total += event.amount;
      break;
    case 'PositionsAutoDeleveraged':
      aggregates.adl.count++;
      aggregates.adl.fills += event.fills.length;
      aggregates.adl.lossAtMark += event.lossAtMark ?? 0n;
      aggregates.adl.deficitCovered += event.deficitCovered ?? 0n;
      for (const fill of event.fills) {
        record(aggregates, fill.accountId, {
          kind: 'adl', position: at, timestamp, marketId: event.marketId, amount: formatDecimal(fill.size), price: formatDecimal(event.bankruptcyPrice),
          ...(fill.lossAtMark === undefined ? {} : { lossAtMark: formatDecimal(fill.lossAtMark) }),
        });
      }
      if (event.lossAtMark !== undefined) {
        // The liquidated account's entry for this liquidation shows what its ADL did.
        const history = aggregates.histories.get(event.accountId);
        const last = history?.[history.length - 1];
        if (history !== undefined && last?.kind === 'liquidation' && last.marketId === event.marketId) {
          history[history.length - 1] = { ...last, adlLossAtMark: formatDecimal(event.lossAtMark), adlDeficitCovered: formatDecimal(event.deficitCovered ?? 0n) };
        }
      }
      break;
    case 'FundingSettled':
      for (const s of event.settlements) record(aggregates, event.accountId, { kind: 'funding', position: at, timestamp, marketId: s.marketId, amount: formatDecimal(s.amount) });
      break;
    case 'FundPaidOut': {
      const recipient = event.recipient.kind === 'account' ? event.recipient.accountId : 'external';
      aggregates.payouts.count++;
      aggregates.payouts.total += event.amount;
      aggregates.payouts.history = [...aggregates.payouts.history, {
        position: at, timestamp, amount: formatDecimal(event.amount), recipient, reason: event.reason, governanceRef: event.governanceRef,
        draws: event.draws.map((d) => ({ trancheId: d.trancheId, amount: formatDecimal(d.amount) })),
      }];
      if (event.recipient.kind === 'account') {
        record(aggregates, event.recipient.accountId, { kind: 'payout', position: at, timestamp, marketId: event.governanceRef, amount: formatDecimal(event.amount), reason: event.reason });
      }
      break;
    }
    case 'LossSocialized':
      aggregates.socialized.count++;
      aggregates.socialized.total += event.amount;
      for (const p of event.postings) if (p.from.kind === 'collateral') record(aggregates, p.from.accountId, { kind: 'haircut', position: at, timestamp, marketId: event.marketId, amount: formatDecimal(p.amount) });
      break;
    case 'PositionLiquidated':
      record(aggregates, event.accountId, { kind: 'liquidation', position: at, timestamp, marketId: event.marketId, amount: formatDecimal(event.size), price: formatDecimal(event.price) });
      if (event.deficit > 0n) {
        aggregates.deficits.count++;
        aggregates.deficits.total += event.deficit;
      }
      break;
    default:
      break;
  }
  recordMovements(aggregates, event, at, timestamp);
  const change = event.type === 'TradeExecuted' ? undefined : governanceChange(event, at, timestamp);
  if (change !== undefined) aggregates.governance.push(change);

  // The history: every event that changes a fund figure replaces the sample of its bucket, so each
  // point holds the figures after the last event of its bucket. Cover-2 scans every account, so it
  // is sampled at the first event of each minute, not at every event.
  const figuresUnchanged = event.type === 'CollateralDeposited' || event.type === 'CollateralWithdrawn' || event.type === 'UnstakeRequested' || event.type === 'UnstakeCancelled';
  const minute = timestamp - (timestamp % resolutions['1m'].ms);
  const newestMinute = aggregates.timelines['1m'][aggregates.timelines['1m'].length - 1];
  const newMinute = newestMinute === undefined || newestMinute.bucket !== minute;
  const fundChanged = !figuresUnchanged || newMinute;
  if (fundChanged) {
    const stress = newMinute || newestMinute === undefined ? entry.stressDeficit(shockOf(options)) : newestMinute.stressDeficit;
    const assets = fundAssets(book);
    for (const resolution of RESOLUTIONS) {
      const { ms, keep } = resolutions[resolution];
      takeSample(aggregates.timelines[resolution], timestamp - (timestamp % ms), keep, book, aggregates, at, assets, stress);
    }
    // The document's series: one point per bucket (an hour by default), the figures after its last event.
    const bucketMs = options.bucketMs ?? 3_600_000;
    const bucket = timestamp - (timestamp % bucketMs);
    const newest = aggregates.newestPoint;
    if (newest !== undefined && newest.bucket !== bucket) {
      aggregates.series.push(formatPoint(newest));
      // Trimmed in batches, so that a full series does not shift on every bucket.
      const length = options.seriesLength ?? 720;
      if (aggregates.series.length > length + 64) aggregates.series.splice(0, aggregates.series.length - length);
    }
    if (newest !== undefined && newest.bucket === bucket) {
      // Rewritten in place, as the samples are (a document formats it when built).
      const point = newest as Writable<RawPoint>;
      point.fundAssets = assets;
      point.openInterest = book.openInterest;
      point.badDebt = book.badDebt;
      point.stressDeficit = stress;
    } else {
      aggregates.newestPoint = { bucket, fundAssets: assets, openInterest: book.openInterest, badDebt: book.badDebt, stressDeficit: stress };
    }
  }

  markAccounts(dirty.accounts, event, position);
  const marketId = marketOf(event);
  if (marketId !== undefined) dirty.markets.set(marketId, position);
  const tranchesChanged = event.type === 'PoolCreated' || event.type === 'TrancheAdded' || event.type === 'ParametersChanged' ||
    event.type === 'Staked' || event.type.startsWith('Unstake') || event.type === 'Recapitalized' || event.type === 'InsuranceFundDrawn' || tranchesPosted;
  if (tranchesChanged) dirty.tranches = position;
  if (fundChanged) dirty.fundHealth = { position, timestamp };
};

/**
 * Build every document the events folded since the last call changed, once each, from the
 * state as it now is, and forget the marks.
 */
export const takeDocuments = (model: ProjectionModel, options: ProjectionOptions = {}): Document[] => {
  const documents: Document[] = [];
  for (const entry of model.pools.values()) {
    const { state: pool, aggregates, dirty } = entry;
    if (pool.status !== 'active') continue;
    const cache = entry instanceof FoldedPool ? entry.positionDocuments : undefined;
    for (const [accountId, position] of dirty.accounts) {
      const doc = accountDocument(pool, aggregates, accountId, position, cache);
      if (doc !== undefined) documents.push(doc);
    }
    for (const [marketId, position] of dirty.markets) {
      const doc = marketDocument(pool, marketId, position);
      if (doc !== undefined) documents.push(doc);
    }
    if (dirty.tranches !== undefined) documents.push(...trancheDocuments(pool, aggregates, dirty.tranches));
    if (dirty.fundHealth !== undefined) documents.push(fundHealthDocument(pool, aggregates, dirty.fundHealth.position, dirty.fundHealth.timestamp, options));
    clearDirtySet(dirty);
  }
  return documents;
};

/** Forget which documents changed (their stored versions are already current). */
export const forgetChanges = (model: ProjectionModel): void => {
  for (const { dirty } of model.pools.values()) clearDirtySet(dirty);
};

/** How many documents wait to be built. */
export const changedDocuments = (model: ProjectionModel): number => {
  let count = 0;
  for (const { dirty } of model.pools.values()) {
    count += dirty.accounts.size + dirty.markets.size + (dirty.tranches === undefined ? 0 : 1) + (dirty.fundHealth === undefined ? 0 : 1);
  }
  return count;
};

const clearDirtySet = (dirty: DirtySet): void => {
  dirty.accounts.clear();
  dirty.markets.clear();
  dirty.tranches = undefined;
  dirty.fundHealth = undefined;
};

/**
 * Apply one event of the log to the model: returns the documents it changed (with those of any
 * event folded before it and not yet taken). Documents are fresh values.
 */
export const projectEvent = (
  model: ProjectionModel,
  poolId: string,
  position: bigint,
  timestamp: number,
  event: ReplayEvent,
  options: ProjectionOptions = {},
): Document[] => {
  foldEvent(model, poolId, position, timestamp, event, options);
  return takeDocuments(model, options);
};

export interface AccountView extends AccountDocument {
  readonly equity: string;
  readonly initialMargin: string;
  readonly maintenanceMargin: string;
  /** maintenance / equity in integer ppm, a decimal string (null when equity is not positive). */
  readonly marginRatioPpm: string | null;
  readonly liquidatable: boolean;
  readonly positionsAtMark: ReadonlyArray<{
    readonly marketId: string;
    readonly unrealizedPnl: string;
    /** Funding accrued and not yet settled into collateral (counted in equity). */
    readonly unsettledFunding: string;
    /** The mark at which the account would become liquidatable, all else equal (null if never). */
    readonly liquidationPrice: string | null;
    /** The mark at which the account's equity would reach zero, all else equal. */
    readonly bankruptcyPrice: string | null;
    readonly adlRank: number | null;
    readonly adlLights: number | null;
  }>;
}

/** The account read model with everything that depends on current marks, from the pool's state. */
export const accountView = (pool: ActivePool, document: AccountDocument): AccountView | undefined => {
  const account = pool.accounts.get(document.accountId);
  if (account === undefined) return undefined;
  const markets = marketsOf(pool);
  const maintenance = marginOf(account, markets, 'maintenance');
  const initial = marginOf(account, markets, 'initial');
  const equity = equityOf(account, markets);
  return {
    ...document,
    equity: formatDecimal(equity),
    initialMargin: formatDecimal(initial.requirement),
    maintenanceMargin: formatDecimal(maintenance.requirement),
    marginRatioPpm: equity > 0n ? ((maintenance.requirement * PPM) / equity).toString() : null,
    liquidatable: account.positions.length > 0 && equity < maintenance.requirement,
    positionsAtMark: account.positions.map((p) => {
      const market = markets(p.marketId)!;
      // With everything else fixed, equity at price x is E + s * (x - m) and the requirement
      // R_other + |s| * x * mmr: liquidatable below (long) or above (short)
      //   x = (R_other - E + s * m) / (s - |s| * mmr).
      const size = p.size < 0n ? -p.size : p.size;
      const otherRequirement = maintenance.requirement - ppmOfNotionalCeil(p.size, market.mark, market.maintenanceMarginPpm);
      const numerator = otherRequirement - equity + notional(p.size, market.mark);
      const denominator = p.size - (size * BigInt(market.maintenanceMarginPpm)) / PPM;
      const liquidation = denominator === 0n ? null : (numerator * ONE) / denominator;
      const bankruptcy = (-(equity - notional(p.size, market.mark)) * ONE) / p.size;
      const queue = adlQueue(pool, p.marketId)[p.size > 0n ? 'long' : 'short'].find((q) => q.accountId === account.accountId);
      return {
        marketId: p.marketId,
        unrealizedPnl: formatDecimal(unrealizedPnl(p, market.mark)),
        unsettledFunding: formatDecimal(unsettledFunding(p, market)),
        liquidationPrice: liquidation === null || liquidation <= 0n ? null : formatDecimal(liquidation),
        bankruptcyPrice: bankruptcy <= 0n ? null : formatDecimal(bankruptcy),
        adlRank: queue?.rank ?? null,
        adlLights: queue?.lights ?? null,
      };
    }),
  };
};
