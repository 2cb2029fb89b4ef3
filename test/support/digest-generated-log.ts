// By hand: the read-model digest of a generated log of N events (the benchmark workload: 10,000
// accounts, 10 markets), folded event by event as the projection folds them. Prints the digest,
// to compare two versions of the fold on a log too large to keep in a test.
//   npx tsx test/support/digest-generated-log.ts 1000000

import { workloadLog } from './logs.js';
import { foldLog, readModelDigest } from './read-model-digest.js';

const events = Number(process.argv[2] ?? 1_000_000);
const started = Date.now();
const { documents, model } = foldLog(workloadLog(events));
console.log(JSON.stringify({ events, documents: documents.size, digest: readModelDigest(documents.values(), model, { redactKeys: true }), seconds: (Date.now() - started) / 1000 }));
