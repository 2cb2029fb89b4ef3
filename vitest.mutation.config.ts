import { defineConfig } from 'vitest/config';

// The test run Stryker repeats for every mutant (`npm run mutation`): only the unit and property
// tests (the domain is pure; the integration suites test adapters and would only slow it down),
// with the property tests at a fixed seed and a reduced run count, so that every run of the
// mutation test judges each mutant by the same cases. Seed 1 at 35 runs still reaches every step
// of the waterfall and executes over 100 trades (the property tests check both themselves; at 25
// runs, since funding and fund payouts joined the generator, fewer than 100 trades are left).
//
// MUTATION_TESTS (comma-separated globs) narrows the run to some test files, for a run of one
// rule file on a shared machine. Fewer tests can only kill fewer mutants, so a narrowed run's
// score is a lower bound of the full run's; the README says which runs were narrowed, and to what.
const narrowed = process.env['MUTATION_TESTS']?.split(',').map((glob) => glob.trim()).filter((glob) => glob !== '');

export default defineConfig({
  test: {
    include: narrowed !== undefined && narrowed.length > 0 ? narrowed : ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts'],
    // The service's slicing of stress runs: it reaches no domain rule (the stress engine's rules
    // have their own specifications), and one of its tests waits on the real event loop.
    exclude: ['test/unit/stress-desk.test.ts'],
    env: { PROPERTY_RUNS: '35', PROPERTY_SEED: '1' },
    setupFiles: ['test/support/mutation-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
