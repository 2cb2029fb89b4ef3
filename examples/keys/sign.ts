// Signs the governance commands of example command files in place with the example keys:
// CreatePool by the root governors, every other governance command by governors 1 and 2.
// Usage: npx tsx examples/keys/sign.ts <file.jsonl>...
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCommand, isGovernanceCommand } from '../../domain/index.js';
import { readGovernorKey, signCommand, type GovernorKey } from '../../services/governance-keys.js';

const here = dirname(fileURLToPath(import.meta.url));
const key = (name: string): GovernorKey => {
  const read = readGovernorKey(join(here, `${name}.json`));
  if (E.isLeft(read)) throw new Error(read.left.message);
  return read.right;
};
const root = [key('root-1'), key('root-2')];
const governors = [key('governor-1'), key('governor-2')];

for (const file of process.argv.slice(2)) {
  const lines = readFileSync(file, 'utf8').split('\n').map((text) => {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return text;
    }
    const command = decodeCommand({ ...json, signatures: [] });
    if (E.isLeft(command) || !isGovernanceCommand(command.right)) return text;
    const signed = signCommand(command.right, ...(command.right.type === 'CreatePool' ? root : governors));
    return JSON.stringify({ ...json, signatures: signed.signatures });
  });
  writeFileSync(file, lines.join('\n'));
  console.log(`signed ${file}`);
}
