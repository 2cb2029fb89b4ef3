// Publishes the ledger's signed checkpoints to NATS JetStream as `ledger.<poolId>.ckpt.<revision>`
// (stream LEDGER_CHECKPOINTS). Only the ledger may publish there (the server's permissions reserve
// `ledger.*.ckpt.>` for the ledger user), so what a subscriber reads there was published by the
// ledger; the signature shows it was signed by the ledger's key. Translation only.

import type { NatsConnection } from 'nats';
import { headers as natsHeaders } from 'nats';
import { encodeCheckpoint, type Checkpoint } from '../ledger/checkpoints.js';
import { ensureStream } from './nats-intake.js';

export const CHECKPOINT_STREAM = 'LEDGER_CHECKPOINTS';
export const checkpointSubject = (poolId: string, revision: bigint): string => `ledger.${poolId}.ckpt.${revision}`;

export interface CheckpointPublisher {
  publish(checkpoint: Checkpoint): void;
  /** Wait for the publishes in flight. */
  flush(): Promise<void>;
}

export const startCheckpointPublisher = async (nc: NatsConnection, onError: (error: Error) => void): Promise<CheckpointPublisher> => {
  const jsm = await nc.jetstreamManager();
  await ensureStream(jsm, { name: CHECKPOINT_STREAM, subjects: ['ledger.*.ckpt.>'], duplicate_window: 10 * 60 * 1_000_000_000 });
  const js = nc.jetstream();
  let inFlight: Promise<void> = Promise.resolve();
  return {
    publish: (checkpoint) => {
      const h = natsHeaders();
      h.set('Content-Type', 'application/json');
      // One message per checkpoint: a repeated publish is dropped by the duplicate window.
      inFlight = inFlight.then(() => js.publish(checkpointSubject(checkpoint.poolId, checkpoint.revision), JSON.stringify(encodeCheckpoint(checkpoint)), {
        msgID: `${checkpoint.poolId}/${checkpoint.revision}`, headers: h,
      })).then(() => undefined, (error: unknown) => onError(error instanceof Error ? error : new Error(String(error))));
    },
    flush: () => inFlight,
  };
};
