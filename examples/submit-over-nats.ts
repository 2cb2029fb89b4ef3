// Submit a command file (one JSON command per line) over NATS with the producer client and print
// each outcome. Usage: NATS_URL=nats://127.0.0.1:4222 npx tsx examples/submit-over-nats.ts examples/trading.jsonl

import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { decodeCommand } from '../domain/index.js';
import { LedgerClient } from '../services/bus/client.js';

const [file] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: submit-over-nats.ts <commands.jsonl>');
  process.exit(2);
}
const client = await LedgerClient.connect(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
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
