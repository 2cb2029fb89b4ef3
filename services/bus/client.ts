// The producer client: submit a command over NATS and wait for its outcome. Retries publish the
// same command id as the message id, so JetStream's duplicate window (and the ledger's own
// idempotency) make a retry safe.

import { connect, type NatsConnection } from 'nats';
import { encodeCommand, type Command } from '../../domain/index.js';
import { commandSubject, OUTCOME_STREAM, outcomeSubject } from './nats-intake.js';

/** An outcome as it travels: amounts as decimal strings. */
export interface WireOutcome {
  readonly status: 'accepted' | 'rejected' | 'invalid' | 'failed';
  readonly commandId?: string;
  readonly events?: ReadonlyArray<Record<string, unknown>>;
  readonly error?: { readonly code: string; readonly message: string; readonly field?: string };
  readonly deduplicated?: boolean;
}

export class LedgerClient {
  private constructor(readonly connection: NatsConnection) {}

  static async connect(servers: string | string[]): Promise<LedgerClient> {
    return new LedgerClient(await connect({ servers, reconnect: true, maxReconnectAttempts: -1 }));
  }

  /** Publish the command and resolve with its outcome; retries with the same id on a timeout. */
  async submit(command: Command, options: { readonly timeoutMs?: number; readonly attempts?: number } = {}): Promise<WireOutcome> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const attempts = options.attempts ?? 3;
    const subscription = this.connection.subscribe(outcomeSubject(command.poolId, command.commandId), { max: 1 });
    const outcome = (async () => {
      for await (const message of subscription) return JSON.parse(new TextDecoder().decode(message.data)) as WireOutcome;
      return undefined;
    })();
    const js = this.connection.jetstream();
    const jsm = await this.connection.jetstreamManager();
    const subject = outcomeSubject(command.poolId, command.commandId);
    // A command published before (JetStream drops the repeat) was answered then: read that outcome.
    const stored = async (): Promise<WireOutcome | undefined> => {
      try {
        const message = await jsm.streams.getMessage(OUTCOME_STREAM, { last_by_subj: subject });
        return JSON.parse(new TextDecoder().decode(message.data)) as WireOutcome;
      } catch {
        return undefined;
      }
    };
    const body = JSON.stringify(encodeCommand(command));
    try {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const ack = await js.publish(commandSubject(command.poolId, command.type), body, { msgID: command.commandId });
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          const earlier = ack.duplicate ? await stored() : undefined;
          if (earlier !== undefined) return earlier;
          const result = await Promise.race([outcome, new Promise<'wait'>((resolve) => setTimeout(() => resolve('wait'), ack.duplicate ? 200 : timeoutMs))]);
          if (result !== 'wait' && result !== undefined) return result;
        }
      }
      throw new Error(`no outcome for ${command.commandId} after ${attempts} attempts`);
    } finally {
      subscription.unsubscribe();
    }
  }

  async close(): Promise<void> {
    await this.connection.drain();
  }
}
