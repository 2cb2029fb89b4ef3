// By hand: the read-model digest of a generated log of N events (the benchmark workload: 10,000
// accounts, 10 markets), folded event by event as the projection folds them. Prints the digest,
// to compare two versions of the fold on a log too large to keep in a test. With --replay the
// events are sealed and read back as stored text and replayed as the runner catches up
// (projectAll: its decoder, documents built once at the end). documentsDigest covers the
// documents alone; digest adds what the API reads from the model (movements, governance, timelines).
//   npx tsx test/support/digest-generated-log.ts 1000000 [--replay]

import { workloadLog } from './logs.js';
import { foldLog, foldStoredLog, readModelDigest } from './read-model-digest.js';

const args = process.argv.slice(2);
const replay = args.includes('--replay');
const events = Number(args.find((a) => a !== '--replay') ?? 1_000_000);
const started = Date.now();
const { documents, model } = (replay ? foldStoredLog : foldLog)(workloadLog(events));
console.log(JSON.stringify({ events, fold: replay ? 'replay' : 'per-event', documents: documents.size, digest: readModelDigest(documents.values(), model, { redactKeys: true }), documentsDigest: readModelDigest(documents.values(), undefined, { redactKeys: true }), seconds: (Date.now() - started) / 1000 }));
