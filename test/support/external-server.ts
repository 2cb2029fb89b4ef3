// A real server for a contract suite: the one at the URL in `envVar`, or one started with
// testcontainers (once, on first use) when a container runtime is available. Otherwise the
// reason it cannot run, for the suite to print and skip with.

import { getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';

export interface ExternalServer {
  url(): Promise<string>;
  stop(): Promise<void>;
}

export const externalServer = async (
  envVar: string,
  start: () => Promise<StartedTestContainer>,
  urlOf: (container: StartedTestContainer) => string,
): Promise<ExternalServer | string> => {
  const fromEnv = process.env[envVar];
  if (fromEnv !== undefined) return { url: async () => fromEnv, stop: async () => undefined };
  try {
    await getContainerRuntimeClient();
  } catch (error) {
    return `no ${envVar} and no container runtime (${(error as Error).message.split('\n')[0]})`;
  }
  let container: StartedTestContainer | undefined;
  return {
    url: async () => urlOf(container ??= await start()),
    stop: async () => { await container?.stop(); },
  };
};
