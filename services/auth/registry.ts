// The principals a running service (or the CLI) works with: the principals file, read once and
// kept, re-read on request (SIGHUP), and changed only through `add` and `remove`, which read the
// file afresh, change it and write it back, so an edit made meanwhile (the CLI, by hand) is kept.

import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { invalidInput, Role, strictObject, type InvalidInput } from '../../domain/index.js';
import {
  addPrincipal, PoolGrant, PrincipalId, readPrincipals, removePrincipal, writePrincipals, type NewPrincipal, type Principal, type PrincipalsFile,
} from './principals.js';

/** A request for a new principal (HTTP body, CLI options): the token is made, never given. */
export const NewPrincipalSpec = strictObject({ id: PrincipalId, roles: t.array(Role, 'Roles'), pools: t.array(PoolGrant, 'Pools') }, 'NewPrincipal', {
  natsUser: PrincipalId,
  description: t.string,
});

/** Why a change to the principals was refused. */
export type PrincipalChangeError =
  | InvalidInput
  | { readonly code: 'PRINCIPAL_ALREADY_EXISTS' | 'NATS_USER_TAKEN' | 'LAST_OPERATOR'; readonly message: string; readonly field: string }
  | { readonly code: 'PRINCIPAL_NOT_FOUND'; readonly message: string }
  | { readonly code: 'PRINCIPALS_FILE_UNREADABLE'; readonly message: string };

/** What a listing shows of a principal: everything but the token's hash. */
export interface PrincipalSummary {
  readonly id: string;
  readonly roles: Principal['roles'];
  readonly pools: Principal['pools'];
  readonly http: boolean;
  readonly natsUser?: string;
  readonly description?: string;
}

export const summaryOf = (p: Principal): PrincipalSummary => ({
  id: p.id, roles: p.roles, pools: p.pools, http: p.tokenSha256 !== undefined,
  ...(p.nats === undefined ? {} : { natsUser: p.nats.user }),
  ...(p.description === undefined ? {} : { description: p.description }),
});

// A path inside a candidate file ("principals.3.nats.user") as the field of the request that set it.
const requestField = (path: string): string => path.replace(/^principals\.[0-9]+\./, '').replace(/^nats\.user$/, 'natsUser');

export class PrincipalRegistry {
  private file: PrincipalsFile;

  private constructor(readonly path: string, file: PrincipalsFile) {
    this.file = file;
  }

  /** Read the file; an error names the file and the bad field. */
  static open(path: string): E.Either<Error, PrincipalRegistry> {
    return E.map((file: PrincipalsFile) => new PrincipalRegistry(path, file))(readPrincipals(path));
  }

  get current(): PrincipalsFile {
    return this.file;
  }

  /** Re-read the file. A bad file leaves the principals as they were and says why. */
  reload(): E.Either<Error, PrincipalsFile> {
    const read = readPrincipals(this.path);
    if (E.isRight(read)) this.file = read.right;
    return read;
  }

  list(): PrincipalSummary[] {
    return this.file.principals.map(summaryOf);
  }

  /** Add a principal to the file; its token is returned once and stored only as a hash. */
  add(spec: NewPrincipal): E.Either<PrincipalChangeError, { readonly principal: PrincipalSummary; readonly token: string }> {
    const latest = this.latest();
    if (E.isLeft(latest)) return latest;
    if (latest.right.principals.some((p) => p.id === spec.id)) {
      return E.left({ code: 'PRINCIPAL_ALREADY_EXISTS', message: `principal "${spec.id}" already exists`, field: 'id' });
    }
    if (spec.natsUser !== undefined && latest.right.principals.some((p) => p.nats?.user === spec.natsUser)) {
      return E.left({ code: 'NATS_USER_TAKEN', message: `NATS user "${spec.natsUser}" belongs to another principal`, field: 'natsUser' });
    }
    const added = addPrincipal(latest.right, spec);
    if (E.isLeft(added)) return E.left(invalidInput(added.left.errors.map((e) => ({ path: requestField(e.path), message: e.message }))));
    this.save(added.right.file);
    const principal = added.right.file.principals.find((p) => p.id === spec.id)!;
    return E.right({ principal: summaryOf(principal), token: added.right.token });
  }

  /** Remove a principal from the file. The last operator stays, so that someone can still manage the others. */
  remove(id: string): E.Either<PrincipalChangeError, PrincipalSummary> {
    const latest = this.latest();
    if (E.isLeft(latest)) return latest;
    const removed = removePrincipal(latest.right, id);
    const principal = latest.right.principals.find((p) => p.id === id);
    if (removed === undefined || principal === undefined) return E.left({ code: 'PRINCIPAL_NOT_FOUND', message: `principal "${id}" not found` });
    if (principal.roles.includes('operator') && !removed.principals.some((p) => p.roles.includes('operator'))) {
      return E.left({ code: 'LAST_OPERATOR', message: `principal "${id}" is the last operator`, field: 'id' });
    }
    this.save(removed);
    return E.right(summaryOf(principal));
  }

  private latest(): E.Either<PrincipalChangeError, PrincipalsFile> {
    return E.mapLeft((error: Error): PrincipalChangeError => ({ code: 'PRINCIPALS_FILE_UNREADABLE', message: error.message }))(readPrincipals(this.path));
  }

  private save(file: PrincipalsFile): void {
    writePrincipals(this.path, file);
    this.file = file;
  }
}
