import { providerCall } from '../../providers/call';
import { HttpMailer } from '../../providers/email';
import { ProviderLimiter } from '../../providers/rate-limit';
import { type EmailSandbox, startEmailSandbox } from '../../sandbox/email';

let sandbox: EmailSandbox;
let mailer: HttpMailer;
const limiter = () => providerCall(new ProviderLimiter('email', { maxConcurrent: 2 }));

beforeAll(async () => {
  sandbox = await startEmailSandbox({ apiKey: 'email-test-key' });
});

beforeEach(() => {
  sandbox.server.reset();
  mailer = new HttpMailer({ baseUrl: sandbox.url, apiKey: 'email-test-key', from: 'Platform <billing@example.com>' }, limiter());
});

afterAll(() => sandbox.stop());

describe('HttpMailer against the email sandbox', () => {
  test('sends a message the sandbox captures and lists', async () => {
    const { id } = await mailer.send({
      to: 'ana@example.com',
      subject: 'Payment failed',
      text: 'Please update your card.',
      html: '<p>Please update your card.</p>',
      tags: { kind: 'dunning' },
    });
    const listed = (await (await fetch(`${sandbox.url}/__sandbox/email/messages?to=ana@example.com`)).json()) as { messages: unknown[] };
    expect(listed.messages).toEqual([
      expect.objectContaining({
        id,
        from: 'Platform <billing@example.com>',
        to: ['ana@example.com'],
        subject: 'Payment failed',
        text: 'Please update your card.',
        tags: [{ name: 'kind', value: 'dunning' }],
      }),
    ]);
  });

  test('the same idempotency key twice sends one email; reusing it for another message is refused', async () => {
    const message = { to: ['ana@example.com'], subject: 'Reminder', text: 'Day 3', idempotencyKey: 'dunning:in_1:day-3' };
    const first = await mailer.send(message);
    const retried = await mailer.send(message);
    expect(retried.id).toBe(first.id);
    expect(sandbox.messages).toHaveLength(1);
    await expect(mailer.send({ ...message, text: 'Different' })).rejects.toMatchObject({ type: 'InvalidInput', nonRetryable: true });
  });

  test('a wrong key is ProviderAuth, an invalid address InvalidInput, 503 and 429 retryable', async () => {
    const wrongKey = new HttpMailer({ baseUrl: sandbox.url, apiKey: 'nope', from: 'a@example.com' }, limiter());
    await expect(wrongKey.send({ to: 'a@example.com', subject: 's', text: 't' })).rejects.toMatchObject({
      type: 'ProviderAuth',
      nonRetryable: true,
    });
    await expect(mailer.send({ to: 'not-an-address', subject: 's', text: 't' })).rejects.toMatchObject({
      type: 'InvalidInput',
      nonRetryable: true,
    });
    sandbox.server.faults.inject({ match: { path: '/emails' }, status: 503 });
    await expect(mailer.send({ to: 'a@example.com', subject: 's', text: 't' })).rejects.toMatchObject({
      type: 'ProviderUnavailable',
      nonRetryable: false,
    });
    sandbox.server.faults.inject({ match: { path: '/emails' }, status: 429, retryAfterSeconds: 1 });
    await expect(mailer.send({ to: 'a@example.com', subject: 's', text: 't' })).rejects.toMatchObject({
      type: 'RateLimited',
      nextRetryDelay: 1000,
    });
    expect(sandbox.messages).toHaveLength(0);
  });
});
