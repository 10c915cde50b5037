import type { DbOrTx } from '../database';
import type { ExportFormat } from '../types';
import { findDriveCredential } from './google-credentials';

/** The Drive export every finished import gets (user_preferences.cloud_storage_auto_upload), if the user turned it on. */
export async function findAutoExport(
  db: DbOrTx,
  userId: string,
): Promise<{ provider: 'google_drive'; formats: ExportFormat[] } | undefined> {
  const prefs = await db
    .selectFrom('user_preferences')
    .select(['cloud_storage_upload_formats'])
    .where('user_id', '=', userId)
    .where('cloud_storage_auto_upload', '=', true)
    .where('cloud_storage_provider', '=', 'google_drive')
    .executeTakeFirst();
  return prefs && prefs.cloud_storage_upload_formats.length > 0
    ? { provider: 'google_drive', formats: prefs.cloud_storage_upload_formats }
    : undefined;
}

/** The automatic Drive export an import gets now: the user's preference, while Drive is connected. */
export async function findActiveAutoExport(
  db: DbOrTx,
  userId: string,
): Promise<{ provider: 'google_drive'; formats: ExportFormat[] } | undefined> {
  const preferred = await findAutoExport(db, userId);
  if (!preferred) return undefined;
  return (await findDriveCredential(db, userId))?.status === 'active' ? preferred : undefined;
}

/** Turns the automatic Drive export on (in these formats) or off. */
export async function setAutoExport(db: DbOrTx, userId: string, formats: ExportFormat[] | null): Promise<void> {
  const values = formats
    ? { cloud_storage_provider: 'google_drive' as const, cloud_storage_auto_upload: true, cloud_storage_upload_formats: formats }
    : { cloud_storage_auto_upload: false };
  await db
    .insertInto('user_preferences')
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
    .execute();
}
