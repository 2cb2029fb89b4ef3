// Process entry point of the `ledger` command.
import { main } from './cli.js';

// A reader that stops early (`ledger run ... | head`) closes the pipe: stop quietly, as other
// command-line tools do, instead of a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
