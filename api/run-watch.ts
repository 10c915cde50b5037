import { setTimeout as sleep } from 'node:timers/promises';
import type { RunView } from '../schemas/api-runs';

export type RunUpdate = { view: RunView } | { error: unknown };
type Listener = (update: RunUpdate) => void;

interface Watch {
  listeners: Set<Listener>;
  latest?: RunView;
}

/**
 * One poll per run however many event streams follow it: the first subscriber starts a loop
 * that loads the run's view every `pollMs` and hands each view to every subscriber; the loop
 * ends with the last unsubscribe, when the run is closed, or on a load error (passed on).
 */
export class RunWatchers {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly pollMs: number) {}

  /**
   * Follows the run: `listener` gets the latest view already polled (if any) at once, then every
   * new one. `load` is used only when this call starts the run's poll. Returns the unsubscribe.
   */
  subscribe(runId: string, load: () => Promise<RunView>, listener: Listener): () => void {
    let watch = this.watches.get(runId);
    if (watch?.latest) listener({ view: watch.latest });
    if (!watch) {
      watch = { listeners: new Set() };
      this.watches.set(runId, watch);
      void this.poll(runId, watch, load);
    }
    const joined = watch;
    joined.listeners.add(listener);
    return () => {
      joined.listeners.delete(listener);
      if (joined.listeners.size === 0 && this.watches.get(runId) === joined) this.watches.delete(runId);
    };
  }

  private async poll(runId: string, watch: Watch, load: () => Promise<RunView>): Promise<void> {
    try {
      for (;;) {
        const view = await load();
        watch.latest = view;
        for (const listener of [...watch.listeners]) listener({ view });
        if (view.status !== 'running') return;
        await sleep(this.pollMs);
        if (watch.listeners.size === 0) return;
      }
    } catch (error) {
      for (const listener of [...watch.listeners]) listener({ error });
    } finally {
      if (this.watches.get(runId) === watch) this.watches.delete(runId);
    }
  }
}
