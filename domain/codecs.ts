// io-ts codecs for the domain's primitive values, and a reporter that turns io-ts errors
// into structured field errors. Every boundary (bus, HTTP, CLI, store reads) decodes with
// these; nothing undecoded reaches the domain.

import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { defaultDecimalFormat, formatDecimal, parseDecimal, type DecimalFormat } from './money.js';
import { strictObjectSchema, withSchema } from './json-schema.js';

/** A decimal string on the wire, a ledger-unit bigint inside. */
export const decimal = (name: string, format: Partial<DecimalFormat> & { readonly positive?: boolean } = {}): t.Type<bigint, string, unknown> => {
  const full: DecimalFormat = { ...defaultDecimalFormat, ...format };
  const pattern = format.signed === true ? '^-?(0|[1-9][0-9]*)(\\.[0-9]+)?$' : '^(0|[1-9][0-9]*)(\\.[0-9]+)?$';
  return withSchema(new t.Type<bigint, string, unknown>(
    name,
    (u): u is bigint => typeof u === 'bigint',
    (u, c) => {
      if (typeof u !== 'string') return t.failure(u, c, `expected a decimal string, got ${describe(u)}`);
      const parsed = parseDecimal(u, full);
      if (E.isLeft(parsed)) return t.failure(u, c, parsed.left);
      if (format.positive === true && parsed.right <= 0n) return t.failure(u, c, `"${u}" must be greater than zero`);
      return t.success(parsed.right);
    },
    formatDecimal,
  ), () => ({ type: 'string', pattern, description: `${name}: an exact decimal string (never a JSON number)${format.positive === true ? ', greater than zero' : ''}` }));
};

/** Non-negative quote amount. */
export const NonNegativeAmount = decimal('NonNegativeAmount');
/** Strictly positive quote amount (deposits, withdrawals). */
export const PositiveAmount = decimal('PositiveAmount', { positive: true });
/** Signed quote amount (balances in snapshots and read models). */
export const SignedAmount = decimal('SignedAmount', { signed: true });
/** Strictly positive size. */
export const PositiveSize = decimal('PositiveSize', { positive: true });
/** Signed size (positions). */
export const SignedSize = decimal('SignedSize', { signed: true });
/** Strictly positive number of tranche shares (18-decimal units). */
export const PositiveShares = decimal('PositiveShares', { positive: true });
/** Non-negative number of tranche shares. */
export const Shares = decimal('Shares');
/** Strictly positive price. */
export const PositivePrice = decimal('PositivePrice', { positive: true });

/** A JSON integer within [min, max] (safe integers only). */
export const integerIn = (name: string, min: number, max: number): t.Type<number, number, unknown> =>
  withSchema(new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max,
    (u, c) =>
      typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max
        ? t.success(u)
        : t.failure(u, c, `expected an integer from ${min} to ${max}, got ${describe(u)}`),
    t.identity,
  ), () => ({ type: 'integer', minimum: min, maximum: max, description: name }));

/** A rate in parts per million, 0 to 100%. */
export const PpmRate = integerIn('PpmRate', 0, 1_000_000);
/** A signed rate in parts per million, -100% to 100% (funding rates; a maker fee below zero is a rebate). */
export const SignedPpmRate = integerIn('SignedPpmRate', -1_000_000, 1_000_000);
/** A ppm ratio that may exceed 100% (coverage targets). */
export const RatioPpm = integerIn('RatioPpm', 0, 1_000_000_000);
/** Decimal places of a size, a price or the quote asset. */
export const Decimals = integerIn('Decimals', 0, 18);
/** A point in time, ms since the epoch. */
export const TimestampMs = integerIn('TimestampMs', 0, 8_640_000_000_000_000);
/** A duration in milliseconds (cooldowns). */
export const DurationMs = integerIn('DurationMs', 0, 10 * 365 * 24 * 3600 * 1000);

/**
 * Free text recorded with a governance decision (a payout's reason, its governance reference):
 * 1 to `max` characters, no control characters, not only spaces.
 */
export const Text = (name: string, max: number) => new t.Type<string, string, unknown>(
  name,
  (u): u is string => typeof u === 'string' && u.length >= 1 && u.length <= max && u.trim().length > 0 && !/[\u0000-\u001f\u007f]/.test(u),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, `expected a string, got ${describe(u)}`);
    if (u.length < 1 || u.length > max || u.trim().length === 0) return t.failure(u, c, `expected 1 to ${max} characters, not only spaces`);
    return /[\u0000-\u001f\u007f]/.test(u) ? t.failure(u, c, 'control characters are not allowed') : t.success(u);
  },
  t.identity,
);

// No '.', '*', '>', whitespace or control characters: ids become parts of NATS subjects and
// stream names, where those are separators and wildcards.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_:-]{0,63}$/;
/** Identifiers of pools, markets, accounts, tranches, trades and commands. */
export const Id = withSchema(new t.Type<string, string, unknown>(
  'Id',
  (u): u is string => typeof u === 'string' && ID_PATTERN.test(u),
  (u, c) =>
    typeof u === 'string' && ID_PATTERN.test(u)
      ? t.success(u)
      : t.failure(u, c, `expected an id (1-64 of letters, digits, '_', ':', '-', starting with a letter or digit), got ${describe(u)}`),
  t.identity,
), () => ({ type: 'string', pattern: ID_PATTERN.source }));

const CORRELATION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** A correlation id a producer sends along (a header): stored in every event's metadata, so bounded. */
export const CorrelationId = withSchema(new t.Type<string, string, unknown>(
  'CorrelationId',
  (u): u is string => typeof u === 'string' && CORRELATION_ID_PATTERN.test(u),
  (u, c) =>
    typeof u === 'string' && CORRELATION_ID_PATTERN.test(u)
      ? t.success(u)
      : t.failure(u, c, `expected a correlation id (1-128 of letters, digits, '_', '.', ':', '-', starting with a letter or digit), got ${describe(u)}`),
  t.identity,
), () => ({ type: 'string', pattern: CORRELATION_ID_PATTERN.source }));

/**
 * An object codec with required and optional fields that rejects keys it does not know, so a typo
 * ("amout") is an error, not a silent drop. Both parts validate against the same context, so error
 * paths are the plain field paths.
 */
export const strictObject = <P extends t.Props, O extends t.Props = {}>(
  props: P,
  name: string,
  optional?: O,
): t.Type<t.TypeOf<t.TypeC<P>> & t.TypeOf<t.PartialC<O>>, t.OutputOf<t.TypeC<P>> & t.OutputOf<t.PartialC<O>>, unknown> => {
  type A = t.TypeOf<t.TypeC<P>> & t.TypeOf<t.PartialC<O>>;
  type Out = t.OutputOf<t.TypeC<P>> & t.OutputOf<t.PartialC<O>>;
  const required = t.type(props, name);
  const partial = t.partial(optional ?? ({} as O));
  const optionalKeys = Object.keys(optional ?? {});
  const known = new Set([...Object.keys(props), ...optionalKeys]);
  const is = (u: unknown): u is A => required.is(u) && partial.is(u);
  return withSchema(new t.Type<A, Out, unknown>(
    name,
    is,
    (u, c) => {
      const requiredResult = required.validate(u, c);
      if (E.isLeft(requiredResult)) return requiredResult;
      const partialResult = partial.validate(u, c);
      if (E.isLeft(partialResult)) return partialResult;
      const extra = Object.keys(u as object).filter((k) => !known.has(k));
      if (extra.length > 0) {
        return t.failures(extra.map((key) => ({
          value: (u as Record<string, unknown>)[key],
          context: [...c, { key, type: t.never, actual: (u as Record<string, unknown>)[key] }],
          message: `unknown field "${key}"`,
        })));
      }
      // Optional fields that are absent stay absent (no `key: undefined`).
      const merged: Record<string, unknown> = { ...requiredResult.right };
      const decodedOptional = partialResult.right as Record<string, unknown>;
      for (const k of optionalKeys) if (decodedOptional[k] !== undefined) merged[k] = decodedOptional[k];
      return t.success(merged as A);
    },
    (a) => {
      const out: Record<string, unknown> = { ...(required.encode(a) as object) };
      const encodedOptional = partial.encode(a) as Record<string, unknown>;
      for (const k of optionalKeys) if (encodedOptional[k] !== undefined) out[k] = encodedOptional[k];
      return out as Out;
    },
  ), () => strictObjectSchema(props, optional ?? {}));
};

// ---------------------------------------------------------------------------------------------
// Structured errors

export interface FieldError {
  /** Dotted path of the bad field from the root of the decoded value ("tranches.0.incomeWeight"). */
  readonly path: string;
  readonly message: string;
}

export interface InvalidInput {
  readonly code: 'INVALID_INPUT';
  readonly message: string;
  readonly errors: ReadonlyArray<FieldError>;
}

const describe = (u: unknown): string => {
  if (u === undefined) return 'nothing';
  if (typeof u === 'bigint') return `${u}n`;
  // A JSON number too large for a double arrives as Infinity; JSON.stringify would say "null".
  if (typeof u === 'number') return String(u);
  let json: string | undefined;
  try {
    json = JSON.stringify(u);
  } catch {
    // Too deeply nested to print (or cyclic): say what it is rather than fail.
    return Array.isArray(u) ? 'an array' : typeof u;
  }
  return json === undefined ? typeof u : json.length > 40 ? `${json.slice(0, 40)}...` : json;
};

/** io-ts errors as field errors, one per bad field (deduplicated, in order). */
export const fieldErrors = (errors: t.Errors): FieldError[] => {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of errors) {
    const path = error.context.slice(1).map((c) => c.key).filter((k) => k !== '').join('.');
    const last = error.context[error.context.length - 1];
    const message = error.value === undefined
      ? 'required field is missing'
      : error.message ?? `expected ${last?.type.name ?? 'a valid value'}, got ${describe(error.value)}`;
    const line = `${path}\u0000${message}`;
    if (seen.has(line)) continue;
    seen.add(line);
    out.push({ path: path === '' ? '(root)' : path, message });
  }
  return out;
};

export const invalidInput = (errors: ReadonlyArray<FieldError>): InvalidInput => ({
  code: 'INVALID_INPUT',
  message: errors.map((e) => `${e.path}: ${e.message}`).join('; '),
  errors,
});

/** Deepest nesting of arrays and objects accepted in input (commands nest four levels). */
export const MAX_JSON_DEPTH = 32;

/**
 * Why valid JSON text is still refused, or undefined: nesting deeper than MAX_JSON_DEPTH (deep
 * values exhaust the stack of anything that walks them) or a key repeated within one object
 * (JSON.parse would silently keep the last, so two readers could see two different commands).
 * A single pass over text that JSON.parse has accepted, so only the structure needs tracking.
 */
const structureError = (text: string): FieldError | undefined => {
  type Frame = { readonly keys: Set<string>; key: string } | { readonly keys: undefined; index: number };
  const frames: Frame[] = [];
  let expectKey = false;
  const pathOf = (): string => frames.map((f) => (f.keys === undefined ? String(f.index) : f.key)).filter((p) => p !== '').join('.') || '(root)';
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* backslash */) { i++; escaped = true; }
      const frame = frames[frames.length - 1];
      if (expectKey && frame?.keys !== undefined) {
        // Without an escape the key is the text between the quotes (JSON.parse has accepted it).
        const key = escaped ? JSON.parse(text.slice(start, i + 1)) as string : text.slice(start + 1, i);
        frame.key = key;
        if (frame.keys.has(key)) return { path: pathOf(), message: `duplicate key "${key}"` };
        frame.keys.add(key);
        expectKey = false;
      }
    } else if (ch === 0x7b /* { */ || ch === 0x5b /* [ */) {
      if (frames.length >= MAX_JSON_DEPTH) return { path: pathOf(), message: `nested more than ${MAX_JSON_DEPTH} levels deep` };
      frames.push(ch === 0x7b ? { keys: new Set(), key: '' } : { keys: undefined, index: 0 });
      expectKey = ch === 0x7b;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      frames.pop();
      expectKey = false;
    } else if (ch === 0x2c /* , */) {
      const frame = frames[frames.length - 1];
      if (frame?.keys === undefined) {
        if (frame !== undefined) frame.index++;
      } else {
        expectKey = true;
      }
    }
  }
  return undefined;
};

/**
 * Parse JSON text read at a boundary. Text that is not JSON, that nests deeper than
 * MAX_JSON_DEPTH or that repeats a key within an object is an InvalidInput naming where.
 */
export const parseJson = (text: string): E.Either<InvalidInput, unknown> => {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    return E.left(invalidInput([{ path: '(root)', message: `not JSON: ${(error as Error).message}` }]));
  }
  const refused = structureError(text);
  return refused === undefined ? E.right(value) : E.left(invalidInput([refused]));
};

/** Decode with a codec, failing with a structured InvalidInput. */
export const decodeWith = <A, O>(codec: t.Type<A, O, unknown>) => (input: unknown): E.Either<InvalidInput, A> =>
  E.mapLeft((errors: t.Errors) => invalidInput(fieldErrors(errors)))(codec.decode(input));

/**
 * Codecs for a family of objects told apart by a literal `type` (commands, events). Decoding
 * dispatches on `type` first, so errors name the fields of the member that was meant rather than
 * of every member of a union.
 */
export const byType = <C extends Record<string, t.Mixed>>(family: string, codecs: C) => {
  type Member = t.TypeOf<C[keyof C]>;
  const types = Object.keys(codecs);
  const codecOf = (type: string) => codecs[type] as unknown as t.Type<Member, unknown, unknown>;
  const decode = (input: unknown): E.Either<InvalidInput, Member> => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return E.left(invalidInput([{ path: '(root)', message: 'expected a JSON object' }]));
    }
    const type = (input as { type?: unknown }).type;
    if (typeof type !== 'string' || !Object.hasOwn(codecs, type)) {
      return E.left(invalidInput([{ path: 'type', message: `unknown ${family} type ${JSON.stringify(type) ?? 'nothing'}; expected one of ${types.join(', ')}` }]));
    }
    return decodeWith(codecOf(type))(input);
  };
  const encode = (member: Member): unknown => codecOf((member as { type: string }).type).encode(member);
  return { types, decode, encode };
};
