// Process entry point of the `ledger` command.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
