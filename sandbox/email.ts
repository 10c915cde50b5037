import { randomUUID } from 'node:crypto';
import { createSandboxServer, HttpError, type Route, type SandboxServer, type SandboxDefinition } from './http';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';

export interface EmailSandboxOptions {
  apiKey: string;
  host?: string;
  port?: number;
}

export interface CapturedEmail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  tags: Array<{ name: string; value: string }>;
  idempotencyKey?: string;
  createdAt: string;
}

export interface EmailSandbox {
  url: string;
  server: SandboxServer;
  messages: CapturedEmail[];
  stop(): Promise<void>;
}

interface SendBody {
  from?: string;
  to?: string[] | string;
  subject?: string;
  text?: string;
  html?: string;
  tags?: Array<{ name: string; value: string }>;
}

const resendError = (status: number, name: string, message: string) =>
  new HttpError(status, message, { statusCode: status, name, message });

/**
 * A Resend-style mail API that delivers nothing: `POST /emails` captures the message (honouring
 * `Idempotency-Key`), `GET /emails/:id` reads it back, `GET /__sandbox/email/messages` lists them.
 */
export async function startEmailSandbox(options: EmailSandboxOptions): Promise<EmailSandbox> {
  const messages: CapturedEmail[] = [];
  const byKey = new Map<string, { payload: string; id: string }>();

  const routes: Route[] = [
    {
      method: 'POST',
      path: '/emails',
      handle: (req) => {
        if (req.headers.authorization !== `Bearer ${options.apiKey}`) throw resendError(401, 'validation_error', 'API key is invalid');
        const payload = req.body.toString('utf8');
        const body = req.json<SendBody>() ?? {};
        const to = Array.isArray(body.to) ? body.to : body.to ? [body.to] : [];
        if (!body.from || to.length === 0 || !body.subject || (!body.text && !body.html))
          throw resendError(422, 'validation_error', 'from, to, subject and text or html are required');
        if (to.some((address) => !/^[^@\s]+@[^@\s]+$/.test(address))) throw resendError(422, 'validation_error', 'Invalid `to` field.');
        const key = req.headers['idempotency-key'];
        const idempotencyKey = Array.isArray(key) ? key[0] : key;
        const prior = idempotencyKey ? byKey.get(idempotencyKey) : undefined;
        if (prior && prior.payload !== payload)
          throw resendError(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.');
        if (prior) return { json: { id: prior.id } };
        const message: CapturedEmail = {
          id: randomUUID(),
          from: body.from,
          to,
          subject: body.subject,
          text: body.text,
          html: body.html,
          tags: body.tags ?? [],
          idempotencyKey,
          createdAt: new Date().toISOString(),
        };
        messages.push(message);
        if (idempotencyKey) byKey.set(idempotencyKey, { payload, id: message.id });
        return { json: { id: message.id } };
      },
    },
    {
      method: 'GET',
      path: '/emails/:id',
      handle: (req) => {
        const message = messages.find((m) => m.id === req.params.id);
        if (!message) throw resendError(404, 'not_found', 'Email not found');
        return { json: { object: 'email', ...message, created_at: message.createdAt, last_event: 'delivered' } };
      },
    },
  ];

  const adminRoutes: Route[] = [
    {
      method: 'GET',
      path: '/__sandbox/email/messages',
      handle: (req) => {
        const to = req.query.get('to');
        return { json: { messages: messages.filter((m) => !to || m.to.includes(to)) } };
      },
    },
  ];

  const server = await createSandboxServer({
    name: 'email',
    routes,
    adminRoutes,
    host: options.host,
    port: options.port,
    errorBody: (status, message) => ({ statusCode: status, name: status === 429 ? 'rate_limit_exceeded' : 'application_error', message }),
    onReset: () => {
      messages.length = 0;
      byKey.clear();
    },
  });
  return { url: server.url, server, messages, stop: () => server.stop() };
}

export const emailSandbox: SandboxDefinition = {
  name: 'email',
  enabled: (config) => !config.EMAIL_API_KEY,
  start: () => startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey }),
};
