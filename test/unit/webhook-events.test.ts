import { createHmac } from 'node:crypto';
import { runClosedFact } from '../../activities/webhook-events';
import { webhookEventId, webhookHeaders, newWebhookSecret } from '../../lib/webhook-signing';

const run = { id: 'smoke:1', type: 'smoke', userId: 'u1', domainId: null, startedAt: new Date('2026-01-02T03:04:05.000Z') };

describe('webhook event ids', () => {
  it('derive from the fact: the same fact always gives the same uuid, another fact another one', () => {
    const id = webhookEventId('run.completed', 'smoke:1:2026-01-02T03:04:05.000Z');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(webhookEventId('run.completed', 'smoke:1:2026-01-02T03:04:05.000Z')).toBe(id);
    expect(webhookEventId('run.failed', 'smoke:1:2026-01-02T03:04:05.000Z')).not.toBe(id);
    expect(webhookEventId('run.completed', 'smoke:2:2026-01-02T03:04:05.000Z')).not.toBe(id);
  });

  it('make a closed run one fact per start of its row (a reopened run is a new fact); canceled runs emit nothing', () => {
    const completed = runClosedFact(run, { status: 'completed', result: { ok: true } });
    expect(completed).toMatchObject({ type: 'run.completed', userId: 'u1', factKey: 'smoke:1:2026-01-02T03:04:05.000Z' });
    expect(completed?.data).toEqual({ runId: 'smoke:1', runType: 'smoke', status: 'completed', domainId: null, result: { ok: true } });
    const reopened = runClosedFact({ ...run, startedAt: new Date('2026-01-03T00:00:00.000Z') }, { status: 'completed' });
    expect(reopened?.factKey).not.toBe(completed?.factKey);
    expect(runClosedFact(run, { status: 'failed', error: { type: 'InvalidInput', message: 'no' } })).toMatchObject({
      type: 'run.failed',
      data: { error: { type: 'InvalidInput', message: 'no' } },
    });
    expect(runClosedFact(run, { status: 'canceled' })).toBeUndefined();
    expect(runClosedFact({ ...run, userId: null }, { status: 'completed' })).toBeUndefined();
  });
});

describe('webhook signatures', () => {
  const hmac = (secret: string, content: string) =>
    createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
      .update(content)
      .digest('base64');

  it('follow Standard Webhooks: v1,<base64 HMAC-SHA256 of id.timestamp.body> keyed by the whsec_ secret', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const sentAt = new Date('2026-05-06T07:08:09.500Z');
    const body = '{"id":"e1","type":"run.completed"}';
    const headers = webhookHeaders([secret], 'e1', sentAt, body);
    expect(headers['webhook-id']).toBe('e1');
    expect(headers['webhook-timestamp']).toBe('1778051289');
    expect(headers['webhook-signature']).toBe(`v1,${hmac(secret, `e1.1778051289.${body}`)}`);
  });

  it('carry one signature per secret during a rotation, the current one first', () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const sentAt = new Date('2026-05-06T07:08:09.000Z');
    const signature = webhookHeaders([current, previous], 'e2', sentAt, '{}')['webhook-signature'];
    expect(signature).toBe(`v1,${hmac(current, 'e2.1778051289.{}')} v1,${hmac(previous, 'e2.1778051289.{}')}`);
  });
});
