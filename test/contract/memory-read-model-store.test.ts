import { MemoryReadModelStore } from '../../adapters/memory/memory-read-model-store.js';
import { readModelStoreContract } from './read-model-store.contract.js';

readModelStoreContract('in memory', async () => new MemoryReadModelStore());
