// Starting one of this adapter's worker threads: the compiled .js next to this file, or the .ts
// source through tsx (tests and `ledger` run the sources), registered in the worker's own thread
// before it loads the source.

import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const fromSource = import.meta.url.endsWith('.ts');

export const startWorker = (name: 'append-worker' | 'chain-worker', workerData: unknown): Worker => {
  if (!fromSource) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  // tsx's ESM entry (its package's "import" condition), next to the CommonJS one require finds.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const source = new URL(`./${name}.ts`, import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`, { eval: true, workerData });
};
