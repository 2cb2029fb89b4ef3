// Replayable fast-check settings: every property prints its seed, and PROPERTY_SEED / PROPERTY_RUNS
// replay or deepen a run (fast-check also prints seed and path of a failing case).

import fc from 'fast-check';

export const propertyParameters = (name: string, defaultRuns = 100): fc.Parameters<unknown> => {
  const seed = process.env.PROPERTY_SEED !== undefined ? Number(process.env.PROPERTY_SEED) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  const numRuns = process.env.PROPERTY_RUNS !== undefined ? Number(process.env.PROPERTY_RUNS) : defaultRuns;
  console.log(`[property] ${name}: seed=${seed} runs=${numRuns} (replay: PROPERTY_SEED=${seed})`);
  return { seed, numRuns };
};
