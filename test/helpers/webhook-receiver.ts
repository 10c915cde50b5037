import { createHmac, timingSafeEqual } from 'node:crypto';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

/** What a path answers to its n-th request (0-based); the handler may also hold the response open. */
export type ReceiverBehaviour = (n: number, res: ServerResponse) => void;

export interface WebhookReceiver {
  url: string;
  /** host:port, for SSRF_ALLOWED_HOSTS */
  host: string;
  received: ReceivedWebhook[];
  on(path: string, behaviour: ReceiverBehaviour): void;
  at(path: string): ReceivedWebhook[];
  stop(): Promise<void>;
}

/** A customer's receiver on 127.0.0.1: records every request and answers per path (200 by default). */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const behaviours = new Map<string, ReceiverBehaviour>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = received.filter((r) => r.path === path).length;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() });
      const behaviour = behaviours.get(path);
      if (behaviour) behaviour(n, res);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    received,
    on: (path, behaviour) => behaviours.set(path, behaviour),
    at: (path) => received.filter((r) => r.path === path),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Standard Webhooks verification written from the spec with node:crypto, independent of the
 * `standardwebhooks` package the platform signs with: HMAC-SHA256 over `id.timestamp.body`
 * keyed by the base64 part of `whsec_…`, compared with each `v1,<base64>` in webhook-signature.
 */
export function verifiesWith(secret: string, webhook: ReceivedWebhook): boolean {
  const id = String(webhook.headers['webhook-id']);
  const timestamp = String(webhook.headers['webhook-timestamp']);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${webhook.body}`).digest();
  return String(webhook.headers['webhook-signature'] ?? '')
    .split(' ')
    .some((part) => {
      const [version, signature] = part.split(',');
      const given = Buffer.from(signature ?? '', 'base64');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}
