import type { Config } from '../lib/config';
import { anthropicSandbox } from './anthropic';
import { assemblyAiSandbox } from './assemblyai';
import { ayrshareSandbox } from './ayrshare';
import { cloudinarySandbox } from './cloudinary';
import { emailSandbox } from './email';
import { freepikSandbox } from './freepik';
import { googleSandbox } from './google';
import { shopSandbox } from './shop';
import { socialSandbox } from './social';
import { replicateSandbox } from './replicate';
import { stripeSandbox } from './stripe';
import type { RunningSandbox, SandboxDefinition } from './http';

export type { RunningSandbox, SandboxDefinition };

export interface RunningSandboxes {
  /** Provider name → base URL of its local sandbox. */
  urls: Record<string, string>;
  stop(): Promise<void>;
}

/** Every provider sandbox; each provider module adds its definition here. */
export const SANDBOXES: SandboxDefinition[] = [
  googleSandbox,
  anthropicSandbox,
  stripeSandbox,
  cloudinarySandbox,
  socialSandbox,
  ayrshareSandbox,
  emailSandbox,
  freepikSandbox,
  shopSandbox,
  replicateSandbox,
  assemblyAiSandbox,
];

/** Starts the local provider sandboxes for every provider without a configured key. */
export async function startSandboxes(config: Config, definitions: SandboxDefinition[] = SANDBOXES): Promise<RunningSandboxes> {
  const running: Array<[string, RunningSandbox]> = [];
  try {
    for (const def of definitions.filter((d) => d.enabled(config))) running.push([def.name, await def.start(config)]);
  } catch (err) {
    await Promise.allSettled(running.map(([, r]) => r.stop()));
    throw err;
  }
  return {
    urls: Object.fromEntries(running.map(([name, r]) => [name, r.url])),
    stop: async () => {
      await Promise.allSettled(running.map(([, r]) => r.stop()));
    },
  };
}
