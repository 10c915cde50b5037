import type { ProviderCall } from './call';

export interface MailMessage {
  to: string | string[];
  subject: string;
  text: string;
  html?: string;
  /**
   * Our id for this message (e.g. `dunning:<invoiceId>:day-3`): a retried send with the same key
   * is answered with the first send's id instead of mailing the customer twice.
   */
  idempotencyKey?: string;
  /** Searchable labels (provider tags), e.g. { kind: 'dunning' }. */
  tags?: Record<string, string>;
}

/** Provider-agnostic outbound mail; activities depend on this, not on a provider. */
export interface Mailer {
  send(message: MailMessage): Promise<{ id: string }>;
}

export interface HttpMailerOptions {
  /** https://api.resend.com or the email sandbox. */
  baseUrl: string;
  apiKey: string;
  /** Sender, e.g. `Creator Platform <billing@example.com>`. */
  from: string;
  timeoutMs?: number;
}

/** A non-2xx answer of the mail API, shaped for the shared error classification. */
export class MailApiError extends Error {
  override name = 'MailApiError';
  constructor(
    message: string,
    readonly response: { status: number; headers: Headers; data: unknown },
  ) {
    super(message);
  }
}

/**
 * Mail over a Resend-style JSON API (`POST /emails`, bearer key, `Idempotency-Key` header):
 * plain fetch, no SDK. Swapping providers means another Mailer, not other activities.
 */
export class HttpMailer implements Mailer {
  constructor(
    private readonly options: HttpMailerOptions,
    private readonly call: ProviderCall,
  ) {}

  async send(message: MailMessage): Promise<{ id: string }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' };
    if (message.idempotencyKey) headers['idempotency-key'] = message.idempotencyKey;
    const body = JSON.stringify({
      from: this.options.from,
      to: Array.isArray(message.to) ? message.to : [message.to],
      subject: message.subject,
      text: message.text,
      html: message.html,
      tags: message.tags ? Object.entries(message.tags).map(([name, value]) => ({ name, value })) : undefined,
    });
    return this.call(async () => {
      const response = await fetch(`${this.options.baseUrl}/emails`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
      const data = (await response.json().catch(() => undefined)) as { id?: string; message?: string } | undefined;
      if (!response.ok || !data?.id) {
        throw new MailApiError(`email API answered HTTP ${response.status}: ${data?.message ?? 'no message id'}`, {
          status: response.ok ? 502 : response.status,
          headers: response.headers,
          data,
        });
      }
      return { id: data.id };
    });
  }
}
