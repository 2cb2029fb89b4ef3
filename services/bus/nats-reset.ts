// Recovery of the bus after the event log was reset or restored: the ledger's streams on NATS
// still hold the old log's events, outcomes and commands (and the forwarder refuses to start on
// them). Deleting them lets the service start afresh: it creates them again, publishes the whole
// log, and no producer is answered from an outcome of the old log. The DLQ is kept: it is the
// record of what was refused.

import type { JetStreamManager } from 'nats';
import { EVENT_STREAM } from './event-forwarder.js';
import { COMMAND_STREAM, OUTCOME_STREAM } from './nats-intake.js';

/** The streams a reset deletes (the intake's consumer goes with the command stream). */
export const RESET_STREAMS = [EVENT_STREAM, OUTCOME_STREAM, COMMAND_STREAM] as const;

export interface StreamReset {
  readonly stream: string;
  /** Messages it held; undefined when it did not exist. */
  readonly messages: number | undefined;
  readonly deleted: boolean;
}

/** What a reset would delete, or (with `confirm`) deletes. */
export const resetLedgerStreams = async (jsm: JetStreamManager, confirm: boolean): Promise<StreamReset[]> => {
  const done: StreamReset[] = [];
  for (const stream of RESET_STREAMS) {
    const messages = await jsm.streams.info(stream).then((info) => info.state.messages, () => undefined);
    const deleted = confirm && messages !== undefined ? await jsm.streams.delete(stream) : false;
    done.push({ stream, messages, deleted });
  }
  return done;
};
