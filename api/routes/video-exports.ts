import { randomUUID } from 'node:crypto';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { listVideoUploads } from '../../db/repositories/drive-uploads';
import { findDriveCredential } from '../../db/repositories/google-credentials';
import { findUserVideo, listVideoContent } from '../../db/repositories/video-import';
import { IdempotencyKeyHeaderSchema } from '../../schemas/common';
import { VideoExportBodySchema, VideoExportStartedSchema, VideoExportsSchema, type VideoExportInput } from '../../schemas/connections';
import { VideoIdParamSchema } from '../../schemas/video-import';
import { videoExportRun, videoExportWorkflowId } from '../../workflows/video-export/contract';
import { caller, requireScope } from '../auth';
import { isoOrNull } from '../dates';
import type { ApiDeps } from '../deps';
import { sendIdempotent } from '../idempotency';
import { HttpProblem, notFound } from '../problem';
import { bearer, json, problems, type RouteModule } from '../route-module';
import { runStartedBody, startRun } from '../run-starter';

function router(deps: ApiDeps): Router {
  const r = Router();
  const { db } = deps;

  const ownVideo = async (userId: string, videoId: string) => {
    const video = await findUserVideo(db, userId, videoId);
    if (!video) throw notFound('video');
    return video;
  };

  r.post('/v1/videos/:id/exports', requireScope('runs:write'), async (req, res) => {
    const { id } = VideoIdParamSchema.parse(req.params);
    const body = VideoExportBodySchema.parse(req.body ?? {});
    const { userId } = caller(res);
    const video = await ownVideo(userId, id);
    const drive = await findDriveCredential(db, userId);
    if (drive?.status !== 'active') {
      const why = drive
        ? `the Google Drive connection is ${drive.status}; connect Google again`
        : 'Google Drive is not connected; connect Google with the drive service';
      throw new HttpProblem(422, 'export-not-connected', 'Export Target Not Connected', `provider: ${why}`, {
        errors: [{ field: 'provider', message: why }],
      });
    }
    const available = new Set((await listVideoContent(db, video.id)).map((c) => c.content_type_key));
    const missing = (body.contentTypes ?? []).filter((key) => !available.has(key));
    if (available.size === 0 || missing.length > 0) {
      const message =
        available.size === 0
          ? 'the video has no content yet; wait for its import to finish'
          : `the video has no ${missing.join(', ')} content`;
      throw new HttpProblem(409, 'video-not-ready', 'Nothing To Export', message, { errors: [{ field: 'contentTypes', message }] });
    }

    await sendIdempotent(db, req, res, userId, async () => {
      const input: VideoExportInput = {
        videoId: video.id,
        userId,
        requestId: randomUUID(),
        formats: body.formats,
        ...(body.contentTypes ? { contentTypes: body.contentTypes } : {}),
      };
      const { runId } = await startRun(deps, videoExportRun, {
        workflowId: videoExportWorkflowId(video.id, input.requestId),
        args: [input],
        input: { provider: body.provider, formats: body.formats, contentTypes: body.contentTypes ?? null },
      });
      return { status: 202, body: { ...runStartedBody(runId), videoId: video.id } };
    });
  });

  r.get('/v1/videos/:id/exports', requireScope('runs:read'), async (req, res) => {
    const { id } = VideoIdParamSchema.parse(req.params);
    const video = await ownVideo(caller(res).userId, id);
    const uploads = await listVideoUploads(db, video.id);
    res.json({
      uploads: uploads.map((u) => ({
        id: u.id,
        contentType: u.content_type,
        format: u.file_format,
        fileName: u.file_name,
        status: u.status,
        error: u.error_message,
        retryCount: u.retry_count,
        maxRetries: u.max_retries,
        fileUrl: u.cloud_file_url,
        folderPath: u.cloud_folder_path,
        completedAt: isoOrNull(u.completed_at),
      })),
    });
  });

  return r;
}

function document(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/v1/videos/{id}/exports',
    tags: ['Videos'],
    summary: "Export a video's content to Google Drive, any time after its import",
    description:
      'Runs `video-export:<videoId>:<requestId>`: the latest version of each content type (or `contentTypes`) in each format, into one Drive folder per video. One upload row per file (`retry_count`/`max_retries`); a file already uploaded is never uploaded again. Drive permission or storage errors fail that upload with the reason.',
    security: bearer(),
    request: {
      params: VideoIdParamSchema,
      headers: IdempotencyKeyHeaderSchema,
      body: { required: true, content: { 'application/json': { schema: VideoExportBodySchema } } },
    },
    responses: { '202': json(VideoExportStartedSchema, 'Export started'), ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429) },
  });
  registry.registerPath({
    method: 'get',
    path: '/v1/videos/{id}/exports',
    tags: ['Videos'],
    summary: "The video's Drive uploads: one row per content type and format, with status and reason",
    security: bearer(),
    request: { params: VideoIdParamSchema },
    responses: { '200': json(VideoExportsSchema, 'Uploads'), ...problems(400, 401, 403, 404, 429) },
  });
}

export const videoExportRoutes: RouteModule = { router, document };
