// Submit a command file (one JSON command per line) over NATS with the producer client and print
// each outcome. The client connects as one principal: NATS_PRINCIPAL names it (its subjects and
// its inbox), and the credentials and TLS files come from the same variables as the service's
// (NATS_USER with NATS_PASSWORD_FILE or NATS_PASSWORD, NATS_TOKEN_FILE, NATS_NKEY_SEED_FILE,
// NATS_CREDS_FILE, NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE). A command the
// principal may not send comes back `forbidden`.
// Usage: NATS_URL=nats://127.0.0.1:4222 NATS_PRINCIPAL=custody NATS_USER=custody NATS_PASSWORD_FILE=... \
//          npx tsx examples/submit-over-nats.ts commands.jsonl

import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCommand } from '../domain/index.js';
import { LedgerClient } from '../services/bus/client.js';
import { natsIdentityFrom } from '../services/bus/connection.js';

const [file] = process.argv.slice(2);
const principalId = process.env.NATS_PRINCIPAL;
if (file === undefined || principalId === undefined) {
  console.error('usage: NATS_PRINCIPAL=<principal id> [NATS_USER=... NATS_PASSWORD_FILE=...] submit-over-nats.ts <commands.jsonl>');
  process.exit(2);
}
const identity = natsIdentityFrom(process.env);
if (E.isLeft(identity)) {
  console.error(`NATS settings: ${identity.left.message}`);
  process.exit(2);
}
const client = await LedgerClient.connect((process.env.NATS_URL ?? 'nats://127.0.0.1:4222').split(','), {
  principalId,
  ...(identity.right.auth === undefined ? {} : { auth: identity.right.auth }),
  ...(identity.right.tls === undefined ? {} : { tls: identity.right.tls }),
});
try {
  const lines = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '');
  for (const [index, line] of lines.entries()) {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      console.log(JSON.stringify({ line: index + 1, status: 'invalid', error: `not JSON: ${(error as Error).message}` }));
      continue;
    }
    const command = decodeCommand(json);
    if (E.isLeft(command)) {
      console.log(JSON.stringify({ line: index + 1, status: 'invalid', error: command.left }));
      continue;
    }
    console.log(JSON.stringify(await client.submit(command.right)));
  }
} finally {
  await client.close();
}
