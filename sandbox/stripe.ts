import { createHmac, randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import {
  createSandboxServer,
  HttpError,
  type Route,
  type RouteRequest,
  type RouteResponse,
  type SandboxServer,
  type SandboxDefinition,
} from './http';
import { decodeStripeForm, type FormObject, str } from './stripe-form';
import { ADVANCE_ACTIONS, type AdvanceAction, type EventObject, StripeSandboxState, stripeError } from './stripe-state';
import { loadStripeWebhookSecret } from '../lib/secrets';

export interface StripeSandboxOptions {
  /** Where signed webhook events are POSTed; events are only recorded while unset. */
  webhookUrl?: string;
  webhookSecret: string;
  /** Waits between delivery attempts of one event (attempts = length + 1). */
  deliveryRetryDelaysMs?: number[];
  host?: string;
  port?: number;
}

export interface WebhookAttempt {
  at: number;
  status?: number;
  error?: string;
}

export interface WebhookDelivery {
  eventId: string;
  type: string;
  /** Present for a re-send through the admin endpoint (a duplicate delivery of the same event). */
  resend: boolean;
  attempts: WebhookAttempt[];
  state: 'pending' | 'delivered' | 'failed';
}

export interface StripeSandbox {
  url: string;
  server: SandboxServer;
  state: StripeSandboxState;
  deliveries: WebhookDelivery[];
  setWebhookUrl(url: string | undefined): void;
  /** Delivers an already emitted event again (same id, fresh signature), as Stripe may do. */
  resend(eventId: string): WebhookDelivery;
  /** Resolves when no delivery is pending (attempts in flight or waiting to retry). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Production Stripe retries failed deliveries for days; the sandbox keeps the idea at demo speed. */
const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000];

/** `Stripe-Signature` exactly as Stripe builds it: `t=<unix>,v1=<hex hmac-sha256 of "t.payload">`. */
export function signStripePayload(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

const stripeErrorBody = (status: number, message: string) => ({
  error: {
    type: status >= 500 ? 'api_error' : 'invalid_request_error',
    code: status === 429 ? 'rate_limit' : undefined,
    message,
  },
});

function header(req: RouteRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function formOf(req: RouteRequest): FormObject {
  return { ...decodeStripeForm(req.query.toString()), ...decodeStripeForm(req.body.toString('utf8')) };
}

function paginate(items: Array<Record<string, unknown> & { id: string }>, form: FormObject, url: string) {
  const newestFirst = [...items].reverse();
  const after = str(form, 'starting_after');
  const start = after ? newestFirst.findIndex((i) => i.id === after) + 1 : 0;
  const limit = Math.min(100, Math.max(1, Number(str(form, 'limit') ?? 10)));
  const page = newestFirst.slice(start, start + limit);
  return { object: 'list', data: page, has_more: start + limit < newestFirst.length, url };
}

/**
 * A stateful Stripe emulator for the calls the platform makes (stripe-node v23 pointed at it
 * with host/port/protocol), with Stripe's idempotency semantics, signed webhook delivery with
 * retries, and a test-clock style admin API (`POST /__sandbox/stripe/advance`).
 */
export async function startStripeSandbox(options: StripeSandboxOptions): Promise<StripeSandbox> {
  let webhookUrl = options.webhookUrl;
  let stopped = false;
  const retryDelays = options.deliveryRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const deliveries: WebhookDelivery[] = [];
  const inFlight = new Set<Promise<void>>();
  /** Pending retry waits: stop() ends them at once. */
  const waits = new Map<NodeJS.Timeout, () => void>();
  const idempotency = new Map<string, { fingerprint: string; response: RouteResponse }>();
  let baseUrl = '';

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        waits.delete(timer);
        resolve();
      }, ms);
      waits.set(timer, resolve);
    });

  async function deliver(event: EventObject, delivery: WebhookDelivery): Promise<void> {
    const payload = JSON.stringify(event, null, 2);
    for (let attempt = 0; attempt <= retryDelays.length && !stopped; attempt += 1) {
      if (attempt > 0) await wait(retryDelays[attempt - 1] ?? 0);
      if (stopped || !webhookUrl) break;
      const record: WebhookAttempt = { at: Date.now() };
      delivery.attempts.push(record);
      try {
        const response = await fetch(webhookUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'stripe-signature': signStripePayload(payload, options.webhookSecret),
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        record.status = response.status;
        await response.arrayBuffer();
        if (response.ok) {
          delivery.state = 'delivered';
          return;
        }
      } catch (err) {
        record.error = err instanceof Error ? err.message : String(err);
      }
    }
    delivery.state = 'failed';
  }

  function schedule(event: EventObject, resend: boolean): WebhookDelivery {
    const delivery: WebhookDelivery = { eventId: event.id, type: event.type, resend, attempts: [], state: 'pending' };
    deliveries.push(delivery);
    if (!webhookUrl) return delivery;
    const run = deliver(event, delivery).finally(() => inFlight.delete(run));
    inFlight.add(run);
    return delivery;
  }

  let state = new StripeSandboxState('', (event) => schedule(event, false));

  const authorized = (req: RouteRequest) => {
    const auth = header(req, 'authorization') ?? '';
    if (!/^Bearer (sk|rk)_(test|live)_\S+$/.test(auth))
      throw new HttpError(401, 'Invalid API Key provided', {
        error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${auth.replace(/^Bearer /, '').slice(0, 8)}****` },
      });
  };

  /** A /v1 route: API key check, form decoding, Stripe's response headers, idempotent POSTs. */
  const api = (method: Route['method'], path: string, handle: (req: RouteRequest, form: FormObject) => unknown): Route => ({
    method,
    path,
    handle: async (req) => {
      const requestId = `req_${randomBytes(7).toString('hex')}`;
      const headers = { 'request-id': requestId, 'stripe-version': header(req, 'stripe-version') ?? Stripe.API_VERSION };
      const run = (): RouteResponse => {
        try {
          authorized(req);
          return { headers, json: handle(req, formOf(req)) };
        } catch (err) {
          if (err instanceof HttpError) return { status: err.status, headers, json: err.body ?? stripeErrorBody(err.status, err.message) };
          throw err;
        }
      };
      const key = method === 'POST' ? header(req, 'idempotency-key') : undefined;
      if (!key) return run();
      const fingerprint = `${method} ${req.path} ${req.body.toString('utf8')}`;
      const prior = idempotency.get(key);
      if (prior && prior.fingerprint !== fingerprint) {
        return {
          status: 400,
          headers,
          json: {
            error: {
              type: 'idempotency_error',
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            },
          },
        };
      }
      if (prior) return { ...prior.response, headers: { ...prior.response.headers, 'idempotent-replayed': 'true' } };
      const response = run();
      // Like Stripe, a 5xx is not saved: the request may be retried with the same key.
      if ((response.status ?? 200) < 500) idempotency.set(key, { fingerprint, response });
      return response;
    },
  });

  const expandable: Record<string, (id: string) => unknown> = {
    customer: (id) => state.customer(id),
    latest_invoice: (id) => state.invoiceView(state.invoice(id)),
    invoice: (id) => state.invoiceView(state.invoice(id)),
    subscription: (id) => state.subscription(id),
    charge: (id) => state.charge(id),
  };
  /** Applies top-level `expand[]` entries (the only depth our calls use). */
  const expand = (object: Record<string, unknown>, form: FormObject): Record<string, unknown> => {
    const fields = Object.values((form.expand as Record<string, string> | string[] | undefined) ?? {}).filter(
      (f): f is string => typeof f === 'string',
    );
    if (fields.length === 0) return object;
    const copy = structuredClone(object);
    for (const field of fields) {
      const value = copy[field];
      const load = expandable[field];
      if (typeof value === 'string' && load) copy[field] = structuredClone(load(value));
    }
    return copy;
  };

  const routes: Route[] = [
    api('POST', '/v1/customers', (_req, form) => state.createCustomer(form)),
    api('GET', '/v1/customers/:id', (req, form) => expand(state.customer(req.params.id ?? ''), form)),
    api('GET', '/v1/customers', (_req, form) => {
      const email = str(form, 'email');
      return paginate(
        [...state.customers.values()].filter((c) => !email || c.email === email),
        form,
        '/v1/customers',
      );
    }),
    api('POST', '/v1/products', (_req, form) => state.createProduct(form)),
    api('POST', '/v1/prices', (_req, form) => state.createPrice(form)),
    api('GET', '/v1/prices/:id', (req) => state.price(req.params.id ?? '', 'id')),
    api('GET', '/v1/prices', (_req, form) => {
      const keys = Object.values((form.lookup_keys as Record<string, string> | string[] | undefined) ?? {});
      return paginate(
        [...state.prices.values()].filter((p) => keys.length === 0 || keys.includes(p.lookup_key ?? '')),
        form,
        '/v1/prices',
      );
    }),
    api('POST', '/v1/subscriptions', (_req, form) => state.createSubscription(form)),
    api('GET', '/v1/subscriptions/:id', (req, form) => expand(state.subscription(req.params.id ?? ''), form)),
    api('POST', '/v1/subscriptions/:id', (req, form) => expand(state.updateSubscription(req.params.id ?? '', form), form)),
    api('DELETE', '/v1/subscriptions/:id', (req, form) => expand(state.cancelSubscription(req.params.id ?? ''), form)),
    api('GET', '/v1/invoices/:id', (req, form) => expand(state.invoiceView(state.invoice(req.params.id ?? '')), form)),
    api('GET', '/v1/invoice_payments', (_req, form) => {
      const payment = (form.payment ?? {}) as Record<string, string>;
      return paginate(
        state.invoicePaymentsFor(payment.payment_intent, str(form, 'invoice')) as Array<Record<string, unknown> & { id: string }>,
        form,
        '/v1/invoice_payments',
      );
    }),
    api('GET', '/v1/charges/:id', (req, form) => expand(state.charge(req.params.id ?? ''), form)),
    api('POST', '/v1/refunds', (_req, form) => state.createRefund(form)),
    api('GET', '/v1/refunds/:id', (req) => {
      const refund = state.refunds.get(req.params.id ?? '');
      if (!refund) throw stripeError(404, `No such refund: '${req.params.id}'`, { code: 'resource_missing', param: 'id' });
      return refund;
    }),
    api('POST', '/v1/transfers', (_req, form) => state.createTransfer(form)),
    api('GET', '/v1/transfers/:id', (req) => state.transfer(req.params.id ?? '')),
    api('GET', '/v1/transfers', (_req, form) => {
      const group = str(form, 'transfer_group');
      return paginate(
        [...state.transfers.values()].filter((t) => !group || t.transfer_group === group),
        form,
        '/v1/transfers',
      );
    }),
    api('POST', '/v1/checkout/sessions', (_req, form) => state.createCheckoutSession(form)),
    api('GET', '/v1/checkout/sessions/:id', (req, form) => expand(state.sessionView(state.session(req.params.id ?? '')), form)),
    api('GET', '/v1/checkout/sessions/:id/line_items', (req) => state.lineItems(req.params.id ?? '')),
    api('GET', '/v1/events/:id', (req) => {
      const event = state.events.find((e) => e.id === req.params.id);
      if (!event) throw stripeError(404, `No such event: '${req.params.id}'`, { code: 'resource_missing', param: 'id' });
      return event;
    }),
    api('GET', '/v1/events', (_req, form) => {
      const type = str(form, 'type');
      return paginate(
        state.events.filter((e) => !type || e.type === type),
        form,
        '/v1/events',
      );
    }),
  ];

  /** Admin errors come back as plain `{ error: { message } }` with the status. */
  const admin = (method: Route['method'], path: string, handle: (req: RouteRequest) => RouteResponse): Route => ({
    method,
    path,
    handle: (req) => {
      try {
        return handle(req);
      } catch (err) {
        if (err instanceof HttpError) return { status: err.status, json: err.body ?? { error: { message: err.message } } };
        throw err;
      }
    },
  });

  const adminRoutes: Route[] = [
    admin('POST', '/__sandbox/stripe/advance', (req) => {
      const body = req.json<{ subscription?: string; action?: string }>() ?? {};
      if (!body.subscription || !ADVANCE_ACTIONS.includes(body.action as AdvanceAction))
        throw new HttpError(400, `body needs { subscription, action: ${ADVANCE_ACTIONS.join(' | ')} }`);
      const subscription = state.advance(body.subscription, body.action as AdvanceAction);
      return { json: subscription };
    }),
    admin('GET', '/__sandbox/stripe/checkout/:id', (req) => {
      const session = state.session(req.params.id ?? '');
      const action = `/__sandbox/stripe/checkout/${session.id}/complete?redirect=1`;
      const html = `<!doctype html><html><body><h1>Stripe sandbox checkout</h1><p>${session.mode} · ${session.amount_total / 100} ${String(session.currency).toUpperCase()} · ${session.status}</p><form method="post" action="${action}"><button>Pay (sandbox)</button></form></body></html>`;
      return { headers: { 'content-type': 'text/html; charset=utf-8' }, text: html };
    }),
    admin('POST', '/__sandbox/stripe/checkout/:id/complete', (req) => {
      const session = state.completeCheckout(req.params.id ?? '');
      const successUrl =
        typeof session.success_url === 'string' ? session.success_url.replace('{CHECKOUT_SESSION_ID}', String(session.id)) : undefined;
      if (req.query.get('redirect') && successUrl) return { status: 303, headers: { location: successUrl } };
      return { json: session };
    }),
    admin('POST', '/__sandbox/stripe/charges/:id/dispute', (req) => ({
      json: state.createDispute(req.params.id ?? '', req.json<{ reason?: string }>()?.reason),
    })),
    admin('POST', '/__sandbox/stripe/disputes/:id/close', (req) => {
      const status = req.json<{ status?: string }>()?.status;
      if (status !== 'won' && status !== 'lost') throw new HttpError(400, 'body needs { status: won | lost }');
      return { json: state.closeDispute(req.params.id ?? '', status) };
    }),
    admin('GET', '/__sandbox/stripe/events', () => ({ json: { events: state.events, deliveries } })),
    admin('POST', '/__sandbox/stripe/events/:id/resend', (req) => ({ status: 202, json: sandbox.resend(req.params.id ?? '') })),
    admin('PUT', '/__sandbox/stripe/webhook', (req) => {
      webhookUrl = req.json<{ url?: string }>()?.url || undefined;
      return { json: { url: webhookUrl ?? null } };
    }),
  ];

  const server = await createSandboxServer({
    name: 'stripe',
    routes,
    adminRoutes,
    host: options.host,
    port: options.port,
    errorBody: stripeErrorBody,
    onReset: () => {
      state = new StripeSandboxState(baseUrl, (event) => schedule(event, false));
      idempotency.clear();
      deliveries.length = 0;
    },
  });
  baseUrl = server.url;
  state = new StripeSandboxState(baseUrl, (event) => schedule(event, false));

  const sandbox: StripeSandbox = {
    url: server.url,
    server,
    get state() {
      return state;
    },
    deliveries,
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    resend(eventId) {
      const event = state.events.find((e) => e.id === eventId);
      if (!event) throw new HttpError(404, `no event ${eventId}`);
      return schedule(event, true);
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async stop() {
      stopped = true;
      for (const [timer, resolve] of waits) {
        clearTimeout(timer);
        resolve();
      }
      waits.clear();
      await server.stop();
    },
  };
  return sandbox;
}

export const stripeSandbox: SandboxDefinition = {
  name: 'stripe',
  enabled: (config) => !config.STRIPE_SECRET_KEY,
  start: (config) =>
    startStripeSandbox({
      webhookUrl: config.STRIPE_SANDBOX_WEBHOOK_URL ?? `http://127.0.0.1:${config.PORT}/v1/webhooks/stripe`,
      // The same secret the API verifies with: STRIPE_WEBHOOK_SECRET, or the one generated in DATA_DIR.
      webhookSecret: loadStripeWebhookSecret(config),
    }),
};
