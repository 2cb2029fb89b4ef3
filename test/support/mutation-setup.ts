// Set-up of the mutation test run only (vitest.mutation.config.ts): a property that fails under
// a mutant has done its job, so fast-check stops at the first counterexample instead of
// shrinking it, which could take longer than the run's timeout.
import fc from 'fast-check';

fc.configureGlobal({ endOnFailure: true });
