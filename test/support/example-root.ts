// The example deployment's root governors (examples/root-governors.json): the examples' pools
// are created by them, so every test that runs an example passes them as the service would.

import * as E from 'fp-ts/lib/Either.js';
import type { Governors } from '../../domain/index.js';
import { readGovernorsFile } from '../../services/governance-keys.js';

export const EXAMPLE_ROOT_GOVERNORS_FILE = 'examples/root-governors.json';

const read = readGovernorsFile(EXAMPLE_ROOT_GOVERNORS_FILE);
if (E.isLeft(read)) throw new Error(read.left.message);
export const exampleRootGovernors: Governors = read.right;
