import {
  findNotificationDelivery,
  notificationTarget,
  recordNotificationDelivery,
  type NotificationKind,
} from '../db/repositories/notifications';
import type { ActivityDeps } from './deps';

export interface Notification {
  userId: string;
  kind: NotificationKind;
  /** Our id for this one message, e.g. `video_completed:<videoId>`: it is sent at most once. */
  dedupeKey: string;
  subject: string;
  lines: string[];
}

export type NotificationOutcome = 'sent' | 'skipped' | 'already_handled';

/**
 * Sends a user email at most once, honouring notification_settings: a key already handled is
 * left alone; a send carries the key as the mail API's idempotency key, so a retry after a crash
 * between the send and the delivery row is answered with the first message instead of a second one.
 */
export async function notifyOnce({ db, logger, providers }: ActivityDeps, note: Notification): Promise<NotificationOutcome> {
  if (await findNotificationDelivery(db, note.dedupeKey)) return 'already_handled';
  const target = await notificationTarget(db, note.userId, note.kind);
  if (!target) return 'skipped';
  if (!target.wanted) {
    await recordNotificationDelivery(db, { ...note, status: 'skipped', providerMessageId: null });
    return 'skipped';
  }
  const hello = target.firstName ? `Hi ${target.firstName},` : 'Hi,';
  const { id } = await providers.mailer.send({
    to: target.email,
    subject: note.subject,
    text: [hello, '', ...note.lines].join('\n'),
    idempotencyKey: note.dedupeKey,
    tags: { kind: note.kind },
  });
  await recordNotificationDelivery(db, { ...note, status: 'sent', providerMessageId: id });
  logger.info({ userId: note.userId, kind: note.kind, dedupeKey: note.dedupeKey }, 'notification sent');
  return 'sent';
}
