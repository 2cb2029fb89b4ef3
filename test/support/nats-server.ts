// A nats-server of a test's (or benchmark's) own: a free port, JetStream, a store directory
// that survives a restart of the server, so tests can kill and restart it. Optionally with a
// configuration file (e.g. deploy/nats-server.conf) and the environment it reads.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';

/** Why NATS tests cannot run here, or undefined when nats-server is on the PATH. */
export const natsServerMissing = (): string | undefined =>
  spawnSync('nats-server', ['--version']).error === undefined ? undefined : 'no nats-server on PATH (Debian package nats-server)';

export const freePort = () => new Promise<number>((resolve) => {
  const server = createServer();
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

/** Resolve once something accepts connections on the port. */
export const listening = async (port: number, tries = 200): Promise<void> => {
  for (let i = 0; i < tries; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on port ${port}`);
};

/** Resolve once the process has exited (at once if it already has). */
export const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

export interface NatsServerOptions {
  /** A configuration file for `-c`; the port, address and store still come from the command line. */
  readonly config?: string;
  /** Variables the configuration reads (added to this process's environment). */
  readonly env?: Readonly<Record<string, string>>;
}

export class NatsServer {
  private process: ChildProcess | undefined;
  private constructor(readonly port: number, private readonly storeDir: string, private readonly options: NatsServerOptions) {}

  static async start(dir: string, options: NatsServerOptions = {}): Promise<NatsServer> {
    const server = new NatsServer(await freePort(), join(dir, 'jetstream'), options);
    await server.restart();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Start it again on the same port with the same store. */
  async restart(): Promise<void> {
    const config = this.options.config === undefined ? [] : ['-c', this.options.config];
    const child = spawn('nats-server', [...config, '-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...this.options.env },
    });
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => { if (errors.length < 10_000) errors += chunk.toString(); });
    this.process = child;
    // A configuration the server refuses ends it at once: say why rather than time out.
    const failed = exited(child).then(() => { throw new Error(`nats-server exited: ${errors.trim()}`); });
    failed.catch(() => undefined);
    await Promise.race([listening(this.port), failed]);
  }


  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.process === undefined) return;
    const done = exited(this.process);
    this.process.kill(signal);
    await done;
  }
}
