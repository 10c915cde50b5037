import { sql } from 'kysely';
import type { DbOrTx } from '../database';
import type { ExportFormat } from '../types';

/** One content item in one format, exported to the user's Google Drive (unique per item + provider + format). */
export interface DriveUpload {
  userId: string;
  credentialId: string;
  videoId: string;
  videoContentId: string;
  contentType: string;
  fileFormat: ExportFormat;
  fileName: string;
}

const uploadValues = (upload: DriveUpload) => ({
  user_id: upload.userId,
  cloud_storage_credentials_id: upload.credentialId,
  video_id: upload.videoId,
  video_content_id: upload.videoContentId,
  provider: 'google_drive' as const,
  content_type: upload.contentType,
  file_format: upload.fileFormat,
  file_name: upload.fileName,
});

/** Records the upload as failed with the reason; a completed upload stays completed. */
export async function recordDriveUploadFailed(db: DbOrTx, upload: DriveUpload, reason: string): Promise<void> {
  await db
    .insertInto('cloud_storage_uploads')
    .values({ ...uploadValues(upload), status: 'failed', error_message: reason })
    .onConflict((oc) =>
      oc
        .columns(['video_content_id', 'provider', 'file_format'])
        .doUpdateSet({ status: 'failed', error_message: reason })
        .where('cloud_storage_uploads.status', '<>', 'completed'),
    )
    .execute();
}

/** Marks the upload as in progress (retry_count counts attempts); undefined when an earlier attempt completed it. */
export async function claimDriveUpload(db: DbOrTx, upload: DriveUpload): Promise<{ id: string } | undefined> {
  return db
    .insertInto('cloud_storage_uploads')
    .values({ ...uploadValues(upload), status: 'uploading', started_at: new Date() })
    .onConflict((oc) =>
      oc
        .columns(['video_content_id', 'provider', 'file_format'])
        .doUpdateSet({
          status: 'uploading',
          retry_count: sql`cloud_storage_uploads.retry_count + 1`,
          error_message: null,
          started_at: new Date(),
        })
        .where('cloud_storage_uploads.status', '<>', 'completed'),
    )
    .returning('id')
    .executeTakeFirst();
}

export async function completeDriveUpload(
  db: DbOrTx,
  id: string,
  file: { cloudFileId: string; cloudFileUrl: string | null; folderId: string; folderPath: string; sizeBytes: number },
): Promise<void> {
  await db
    .updateTable('cloud_storage_uploads')
    .set({
      status: 'completed',
      cloud_file_id: file.cloudFileId,
      cloud_file_url: file.cloudFileUrl,
      cloud_folder_id: file.folderId,
      cloud_folder_path: file.folderPath,
      file_size_bytes: file.sizeBytes,
      completed_at: new Date(),
    })
    .where('id', '=', id)
    .execute();
}

export async function failDriveUpload(db: DbOrTx, id: string, reason: string): Promise<void> {
  await db.updateTable('cloud_storage_uploads').set({ status: 'failed', error_message: reason }).where('id', '=', id).execute();
}

/** These items' completed uploads in these formats (whichever attempt did them). */
export async function completedDriveUploads(db: DbOrTx, videoContentIds: string[], formats: ExportFormat[]) {
  return db
    .selectFrom('cloud_storage_uploads')
    .select(['video_content_id', 'content_type', 'file_format', 'cloud_file_url'])
    .where('video_content_id', 'in', videoContentIds)
    .where('provider', '=', 'google_drive')
    .where('file_format', 'in', formats)
    .where('status', '=', 'completed')
    .orderBy('content_type')
    .orderBy('file_format')
    .execute();
}

/** Every Drive upload of a video, newest first: the export history the API lists. */
export async function listVideoUploads(db: DbOrTx, videoId: string) {
  return db
    .selectFrom('cloud_storage_uploads')
    .select([
      'id',
      'content_type',
      'file_format',
      'file_name',
      'status',
      'error_message',
      'retry_count',
      'max_retries',
      'cloud_file_url',
      'cloud_folder_path',
      'completed_at',
    ])
    .where('video_id', '=', videoId)
    .where('provider', '=', 'google_drive')
    .orderBy('created_at', 'desc')
    .orderBy('content_type')
    .orderBy('file_format')
    .execute();
}
