import type { Route } from './http';

/** What every sandbox records of a webhook it sent (tests read these). */
export interface SentWebhookRecord {
  /** Our API's answer, or 0 when the delivery could not be made (or was dropped by the fault switch). */
  responseStatus: number;
  dropped: boolean;
}

export interface SandboxWebhookSender<R extends SentWebhookRecord> {
  /** Every webhook sent (or dropped), oldest first. */
  sent: R[];
  /**
   * Records `fields` and posts `body` to `url` in the background. `headersFor` runs per attempt, so
   * a signature can carry the attempt's own timestamp.
   */
  send(url: string, fields: Omit<R, keyof SentWebhookRecord>, body: string, headersFor?: () => Record<string, string>): void;
  /** Fault switch: webhooks are recorded as dropped and not sent, so polling must finish the jobs. */
  dropWebhooks: (drop: boolean) => void;
  /** Replaces the origin of the webhook URLs jobs were created with (tests whose API port is known late). */
  setWebhookOrigin: (origin: string | undefined) => void;
  /** `POST /__sandbox/<name>/webhooks {drop}`: the fault switch over HTTP. */
  adminRoute: Route;
  reset(): void;
  /** Waits for deliveries in flight (sandbox stop). */
  settle(): Promise<void>;
}

/** A provider's webhook deliveries as the local sandboxes make them: recorded, droppable, retried a little. */
export function createSandboxWebhookSender<R extends SentWebhookRecord>(name: string, origin?: string): SandboxWebhookSender<R> {
  const sent: R[] = [];
  const inFlight = new Set<Promise<void>>();
  let dropping = false;
  let webhookOrigin = origin;

  async function deliver(url: string, record: R, body: string, headersFor: () => Record<string, string>): Promise<void> {
    const target = webhookOrigin ? `${webhookOrigin}${new URL(url).pathname}` : url;
    // Providers retry failed deliveries; three quick attempts are enough locally.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json', ...headersFor() }, body });
        record.responseStatus = res.status;
        if (res.status < 500) return;
      } catch {
        record.responseStatus = 0;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
    }
  }

  return {
    sent,
    send(url, fields, body, headersFor = () => ({})) {
      const record = { ...fields, responseStatus: 0, dropped: dropping } as R;
      sent.push(record);
      if (dropping) return;
      const delivery = deliver(url, record, body, headersFor).finally(() => inFlight.delete(delivery));
      inFlight.add(delivery);
    },
    dropWebhooks: (drop) => {
      dropping = drop;
    },
    setWebhookOrigin: (next) => {
      webhookOrigin = next;
    },
    adminRoute: {
      method: 'POST',
      path: `/__sandbox/${name}/webhooks`,
      handle: (req) => {
        dropping = req.json<{ drop?: boolean }>()?.drop === true;
        return { json: { dropping } };
      },
    },
    reset() {
      sent.length = 0;
      dropping = false;
    },
    settle: async () => {
      await Promise.allSettled([...inFlight]);
    },
  };
}
