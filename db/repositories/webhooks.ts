import { sql } from 'kysely';
import type { Db, DbOrTx } from '../database';

/** A user's outgoing webhook endpoints (`webhooks`), their outbox events, deliveries and attempt logs. */

export interface NewWebhookEndpoint {
  id: string;
  userId: string;
  url: string;
  events: string[];
  description: string | null;
  encryptedSecret: string;
}

export async function createWebhookEndpoint(db: DbOrTx, endpoint: NewWebhookEndpoint) {
  return db
    .insertInto('webhooks')
    .values({
      id: endpoint.id,
      user_id: endpoint.userId,
      url: endpoint.url,
      events: endpoint.events,
      description: endpoint.description,
      encrypted_secret: endpoint.encryptedSecret,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listWebhookEndpoints(db: DbOrTx, userId: string) {
  return db.selectFrom('webhooks').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id').execute();
}

export async function findWebhookEndpoint(db: DbOrTx, userId: string, id: string) {
  return db.selectFrom('webhooks').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
}

export interface WebhookEndpointPatch {
  events?: string[];
  enabled?: boolean;
  description?: string | null;
}

/** Re-enabling clears the failure streak and the reason it was disabled. */
export async function updateWebhookEndpoint(db: DbOrTx, userId: string, id: string, patch: WebhookEndpointPatch) {
  const changes = {
    ...(patch.events ? { events: patch.events } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    ...(patch.enabled === true ? { is_active: true, failure_count: 0, disabled_reason: null } : {}),
    ...(patch.enabled === false ? { is_active: false, disabled_reason: 'disabled by the user' } : {}),
  };
  // An empty PATCH changes nothing (and `set({})` is not valid SQL): answer with the endpoint as it is.
  if (Object.keys(changes).length === 0)
    return db.selectFrom('webhooks').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  return db.updateTable('webhooks').set(changes).where('user_id', '=', userId).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteWebhookEndpoint(db: DbOrTx, userId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('webhooks').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export interface SecretRotation {
  encryptedSecret: string;
  previousEncryptedSecret: string;
  previousExpiresAt: Date;
}

export async function rotateWebhookSecret(db: DbOrTx, userId: string, id: string, rotation: SecretRotation): Promise<boolean> {
  const result = await db
    .updateTable('webhooks')
    .set({
      encrypted_secret: rotation.encryptedSecret,
      previous_encrypted_secret: rotation.previousEncryptedSecret,
      previous_secret_expires_at: rotation.previousExpiresAt,
    })
    .where('user_id', '=', userId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface WebhookEventFact {
  id: string;
  userId: string;
  type: string;
  data: unknown;
}

export interface UndispatchedDelivery {
  deliveryId: string;
  eventId: string;
  webhookId: string;
  redelivery: number;
}

const undispatched = (db: DbOrTx) =>
  db
    .selectFrom('webhook_deliveries')
    .select(['id as deliveryId', 'event_id as eventId', 'webhook_id as webhookId', 'redeliveries as redelivery'])
    .where('dispatched_at', 'is', null)
    .where('status', '=', 'pending');

/**
 * The outbox write: the event (its id derived from the fact, so a retry inserts nothing) and one
 * delivery per enabled endpoint of the user subscribed to its type. Call inside the transaction
 * that records the fact. Returns the event's deliveries not yet started (a retry finds them again).
 */
export async function recordWebhookEvent(db: DbOrTx, event: WebhookEventFact): Promise<UndispatchedDelivery[]> {
  await db
    .insertInto('webhook_events')
    .values({ id: event.id, user_id: event.userId, type: event.type, data: JSON.stringify(event.data) })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  await db
    .insertInto('webhook_deliveries')
    .columns(['event_id', 'webhook_id'])
    .expression(
      db
        .selectFrom('webhooks')
        .select([sql<string>`${event.id}::uuid`.as('event_id'), 'id as webhook_id'])
        .where('user_id', '=', event.userId)
        .where('is_active', '=', true)
        .where(sql<boolean>`${event.type} = any(events)`),
    )
    .onConflict((oc) => oc.columns(['event_id', 'webhook_id']).doNothing())
    .execute();
  return undispatched(db).where('event_id', '=', event.id).execute();
}

/** A test event for one endpoint, whatever it subscribes to; its delivery id, not yet started. */
export async function recordTestDelivery(db: Db, event: WebhookEventFact, webhookId: string): Promise<UndispatchedDelivery> {
  return db.transaction().execute(async (tx) => {
    await tx
      .insertInto('webhook_events')
      .values({ id: event.id, user_id: event.userId, type: event.type, data: JSON.stringify(event.data) })
      .execute();
    const row = await tx
      .insertInto('webhook_deliveries')
      .values({ event_id: event.id, webhook_id: webhookId })
      .returning(['id as deliveryId', 'event_id as eventId', 'webhook_id as webhookId', 'redeliveries as redelivery'])
      .executeTakeFirstOrThrow();
    return row;
  });
}

/** Deliveries whose run was never started (the emitter died before dispatching), oldest first. */
export async function findUndispatchedDeliveries(db: DbOrTx, createdBefore: Date, limit: number): Promise<UndispatchedDelivery[]> {
  return undispatched(db).where('created_at', '<', createdBefore).orderBy('created_at').limit(limit).execute();
}

export async function markDeliveriesDispatched(db: DbOrTx, deliveryIds: string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await db
    .updateTable('webhook_deliveries')
    .set({ dispatched_at: sql`coalesce(dispatched_at, now())` })
    .where('id', 'in', deliveryIds)
    .execute();
}

/** Everything one attempt needs: the delivery, its event and its endpoint (sealed secrets). */
export async function findDeliveryForAttempt(db: DbOrTx, deliveryId: string) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
    .select([
      'd.id as deliveryId',
      'd.status',
      'd.attempt_offset as attemptOffset',
      'e.id as eventId',
      'e.type as eventType',
      'e.data as eventData',
      'e.created_at as eventCreatedAt',
      'w.id as webhookId',
      'w.user_id as userId',
      'w.url',
      'w.is_active as enabled',
      'w.encrypted_secret as encryptedSecret',
      'w.previous_encrypted_secret as previousEncryptedSecret',
      'w.previous_secret_expires_at as previousSecretExpiresAt',
    ])
    .where('d.id', '=', deliveryId)
    .executeTakeFirst();
}

export interface DeliveryAttempt {
  deliveryId: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  requestBody: string;
  responseCode: number | null;
  responseBody: string | null;
  latencyMs: number | null;
  success: boolean;
  error: string | null;
  /** 410 Gone: the receiver asked us to stop. */
  gone: boolean;
  disableAfterFailures: number;
}

export type AttemptOutcome = 'delivered' | 'failed' | 'endpoint_disabled_now' | 'endpoint_gone';

/**
 * One attempt's log row and its effects, in one transaction: a success closes the delivery and
 * ends the endpoint's failure streak; a failure lengthens the streak, which disables the endpoint
 * when it reaches `disableAfterFailures` (`endpoint_disabled_now` exactly once, for one email).
 * The log row is keyed by (endpoint, event, attempt): a retried recording changes nothing.
 */
export async function recordDeliveryAttempt(db: Db, attempt: DeliveryAttempt): Promise<AttemptOutcome> {
  return db.transaction().execute(async (tx) => {
    const logged = await tx
      .insertInto('webhook_logs')
      .values({
        webhook_id: attempt.webhookId,
        event_id: attempt.eventId,
        event_type: attempt.eventType,
        attempt: attempt.attempt,
        request_body: attempt.requestBody,
        response_code: attempt.responseCode,
        response_body: attempt.responseBody,
        response_time_ms: attempt.latencyMs,
        success: attempt.success,
        error: attempt.error,
      })
      .onConflict((oc) => oc.constraint('webhook_logs_delivery_attempt_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    await tx
      .updateTable('webhook_deliveries')
      .set({
        last_response_code: attempt.responseCode,
        ...(attempt.success ? { status: 'delivered', delivered_at: sql`coalesce(delivered_at, now())` } : {}),
      })
      .where('id', '=', attempt.deliveryId)
      .execute();
    const endpointSeen = { last_response_code: attempt.responseCode, last_triggered_at: sql<Date>`now()` };
    if (attempt.success) {
      await tx
        .updateTable('webhooks')
        .set({ ...endpointSeen, failure_count: 0 })
        .where('id', '=', attempt.webhookId)
        .execute();
      return 'delivered';
    }
    if (attempt.gone) {
      await tx
        .updateTable('webhooks')
        .set({ ...endpointSeen, is_active: false, disabled_reason: 'the receiver answered 410 Gone' })
        .where('id', '=', attempt.webhookId)
        .execute();
      return 'endpoint_gone';
    }
    if (!logged) return 'failed';
    const streak = await tx
      .updateTable('webhooks')
      .set({ ...endpointSeen, failure_count: sql`failure_count + 1` })
      .where('id', '=', attempt.webhookId)
      .returning(['failure_count', 'is_active'])
      .executeTakeFirst();
    if (!streak?.is_active || streak.failure_count < attempt.disableAfterFailures) return 'failed';
    await tx
      .updateTable('webhooks')
      .set({ is_active: false, disabled_reason: `${streak.failure_count} consecutive failed delivery attempts` })
      .where('id', '=', attempt.webhookId)
      .execute();
    return 'endpoint_disabled_now';
  });
}

export async function failDelivery(db: DbOrTx, deliveryId: string): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'failed' })
    .where('id', '=', deliveryId)
    .where('status', '=', 'pending')
    .execute();
}

/**
 * A redelivery of one of the user's deliveries: back to pending, its next run numbering attempts
 * after those already logged. Undefined when the delivery is not the user's.
 */
export async function requestRedelivery(db: Db, userId: string, deliveryId: string): Promise<UndispatchedDelivery | undefined> {
  return db.transaction().execute(async (tx) => {
    const owned = await tx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
      .select(['d.id', 'd.event_id', 'd.webhook_id'])
      .where('d.id', '=', deliveryId)
      .where('w.user_id', '=', userId)
      .forUpdate()
      .executeTakeFirst();
    if (!owned) return undefined;
    const logged = await tx
      .selectFrom('webhook_logs')
      .select(sql<number>`coalesce(max(attempt), 0)::int`.as('attempts'))
      .where('webhook_id', '=', owned.webhook_id)
      .where('event_id', '=', owned.event_id)
      .executeTakeFirstOrThrow();
    return tx
      .updateTable('webhook_deliveries')
      .set({
        status: 'pending',
        redeliveries: sql`redeliveries + 1`,
        attempt_offset: logged.attempts,
        dispatched_at: null,
        delivered_at: null,
      })
      .where('id', '=', deliveryId)
      .returning(['id as deliveryId', 'event_id as eventId', 'webhook_id as webhookId', 'redeliveries as redelivery'])
      .executeTakeFirstOrThrow();
  });
}

/** An endpoint's deliveries, newest first, each with its logged attempts and the last answer. */
export async function listEndpointDeliveries(db: DbOrTx, webhookId: string, limit: number) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('webhook_logs as l')
          .select(['l.attempt', 'l.response_time_ms', 'l.response_body'])
          .whereRef('l.webhook_id', '=', 'd.webhook_id')
          .whereRef('l.event_id', '=', 'd.event_id')
          .orderBy('l.attempt', 'desc')
          .limit(1)
          .as('last'),
      (join) => join.onTrue(),
    )
    .select([
      'd.id',
      'd.event_id',
      'e.type as event_type',
      'd.status',
      'd.last_response_code',
      'd.delivered_at',
      'd.created_at',
      'last.attempt as attempts',
      'last.response_time_ms',
      'last.response_body',
    ])
    .where('d.webhook_id', '=', webhookId)
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id')
    .limit(limit)
    .execute();
}
