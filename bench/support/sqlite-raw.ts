// The raw SQLite baselines: inserting and reading the event rows exactly as the adapter stored
// them, with nothing of the ledger around. The table's schema (its CREATE statement and indexes)
// and its columns are read from the store's file, so the baseline follows the stored format as it
// changes rather than a copy of it.

import Database from 'better-sqlite3';

const TABLE = 'events';

/** The events table as the adapter made it in `file`. */
export interface StoredTable {
  /** CREATE statements of the table and of its explicit indexes (implicit UNIQUE indexes come with the table). */
  readonly schema: ReadonlyArray<string>;
  /** Every column but the rowid alias (the position SQLite assigns). */
  readonly columns: ReadonlyArray<string>;
  /** The file's journal mode (WAL): it is kept in the file. */
  readonly journalMode: string;
}

export const storedTable = (file: string): StoredTable => {
  const db = new Database(file, { readonly: true });
  try {
    const schema = db.prepare('SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC').pluck().all(TABLE) as string[];
    const info = db.prepare('SELECT name, type, pk FROM pragma_table_info(?)').all(TABLE) as { name: string; type: string; pk: number }[];
    const rowidAlias = info.filter((c) => c.pk > 0).length === 1 ? info.find((c) => c.pk === 1 && c.type.toUpperCase() === 'INTEGER')?.name : undefined;
    if (schema.length === 0) throw new Error(`${file} has no ${TABLE} table`);
    return { schema, columns: info.map((c) => c.name).filter((name) => name !== rowidAlias), journalMode: String(db.pragma('journal_mode', { simple: true })) };
  } finally {
    db.close();
  }
};

/** The highest rowid of the table now (0 when empty). */
export const lastRowid = (file: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return Number(db.prepare(`SELECT coalesce(max(rowid), 0) FROM ${TABLE}`).pluck().get());
  } finally {
    db.close();
  }
};

/** The rows with a rowid in (after, upTo], as stored (one array of column values per row). */
export const storedRows = (file: string, table: StoredTable, after: number, upTo: number): unknown[][] => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT ${table.columns.join(', ')} FROM ${TABLE} WHERE rowid > ? AND rowid <= ? ORDER BY rowid`).raw(true).all(after, upTo) as unknown[][];
  } finally {
    db.close();
  }
};

/**
 * A database of its own with the same table, journal mode and synchronous=FULL (the adapter's
 * durability: a commit is on disk when it returns), taking rows in given transaction sizes.
 */
export class RawInserter {
  private readonly db: Database.Database;
  private readonly insertAll: (rows: ReadonlyArray<unknown[]>) => void;

  constructor(file: string, table: StoredTable) {
    this.db = new Database(file);
    this.db.pragma(`journal_mode = ${table.journalMode}`);
    this.db.pragma('synchronous = FULL');
    for (const sql of table.schema) this.db.exec(sql);
    const insert = this.db.prepare(`INSERT INTO ${TABLE} (${table.columns.join(', ')}) VALUES (${table.columns.map(() => '?').join(', ')})`);
    this.insertAll = this.db.transaction((rows: ReadonlyArray<unknown[]>) => {
      for (const row of rows) insert.run(row);
    });
  }

  /** Insert `rows`, one transaction per size in `transactions` (which must add up to the rows). */
  insert(rows: ReadonlyArray<unknown[]>, transactions: ReadonlyArray<number>): void {
    let at = 0;
    for (const size of transactions) {
      this.insertAll(rows.slice(at, at + size));
      at += size;
    }
    if (at !== rows.length) throw new Error(`transactions of ${at} rows for ${rows.length} rows`);
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Read the rows with a rowid in (after, upTo] in pages, and parse every column that holds JSON
 * text (what any reader of the stored rows must do at least). Returns how many rows were read.
 */
export const rawRead = (file: string, table: StoredTable, after: number, upTo: number, pageSize = 10_000): number => {
  const db = new Database(file, { readonly: true });
  try {
    const select = db.prepare(`SELECT rowid, ${table.columns.join(', ')} FROM ${TABLE} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?`).raw(true);
    let json: number[] | undefined;
    let read = 0;
    for (let from = after; ;) {
      const page = select.all(from, upTo, pageSize) as unknown[][];
      if (page.length === 0) return read;
      // Which columns hold JSON, from the first row (the same for every row of the table).
      json ??= page[0]!.flatMap((value, i) => (i > 0 && typeof value === 'string' && /^[[{]/.test(value) ? [i] : []));
      for (const row of page) for (const i of json) JSON.parse(row[i] as string);
      read += page.length;
      from = page[page.length - 1]![0] as number;
    }
  } finally {
    db.close();
  }
};
