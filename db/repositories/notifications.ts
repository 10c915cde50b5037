import type { DbOrTx } from '../database';

export type NotificationKind = 'video_completed' | 'video_failed' | 'subscription_renewal' | 'social_account_revoked';

export interface NotificationTarget {
  email: string;
  firstName: string | null;
  /** False when the user turned this kind (or all email) off. */
  wanted: boolean;
}

/** The user's address and whether they want this kind of email (no settings row: every default is on). */
export async function notificationTarget(db: DbOrTx, userId: string, kind: NotificationKind): Promise<NotificationTarget | undefined> {
  const row = await db
    .selectFrom('users')
    .leftJoin('notification_settings as s', 's.user_id', 'users.id')
    .select(['users.email', 'users.first_name', 's.email_enabled', `s.${kind}`])
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!row) return undefined;
  const settings = row as unknown as Record<string, boolean | null>;
  return { email: row.email, firstName: row.first_name, wanted: settings.email_enabled !== false && settings[kind] !== false };
}

export async function upsertNotificationSettings(
  db: DbOrTx,
  userId: string,
  settings: Partial<Record<NotificationKind | 'email_enabled', boolean>>,
): Promise<void> {
  await db
    .insertInto('notification_settings')
    .values({ user_id: userId, ...settings })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(settings))
    .execute();
}

export async function findNotificationDelivery(db: DbOrTx, dedupeKey: string) {
  return db.selectFrom('notification_deliveries').selectAll().where('dedupe_key', '=', dedupeKey).executeTakeFirst();
}

/** Records a notification as handled (sent or skipped by the user's settings); the first record wins. */
export async function recordNotificationDelivery(
  db: DbOrTx,
  delivery: { dedupeKey: string; userId: string; kind: NotificationKind; status: 'sent' | 'skipped'; providerMessageId: string | null },
): Promise<void> {
  await db
    .insertInto('notification_deliveries')
    .values({
      dedupe_key: delivery.dedupeKey,
      user_id: delivery.userId,
      kind: delivery.kind,
      status: delivery.status,
      provider_message_id: delivery.providerMessageId,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .execute();
}
