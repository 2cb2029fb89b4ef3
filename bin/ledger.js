#!/usr/bin/env node
// The `ledger` command: loads the TypeScript sources through tsx (no separate build step).
import { register } from 'tsx/esm/api';

register();
await import('../services/main.ts');
