import { z } from 'zod';
import { PLAN_SLUGS } from './billing';

const GRANT_TYPES = ['full_access', 'video_limit_override', 'unlimited_videos', 'trial_extension'] as const;

export const AdminGrantBodySchema = z
  .object({
    grantType: z.enum(GRANT_TYPES),
    tierOverride: z
      .enum(
        PLAN_SLUGS.filter((s) => s !== 'free') as [
          Exclude<(typeof PLAN_SLUGS)[number], 'free'>,
          ...Exclude<(typeof PLAN_SLUGS)[number], 'free'>[],
        ],
      )
      .optional(),
    videoLimitOverride: z.number().int().min(0).optional(),
    reason: z.string().min(1).max(1000),
    expiresAt: z.iso.datetime({ offset: true }).optional().describe('when the grant ends by itself; omitted = until revoked'),
  })
  .strict()
  .refine((b) => b.grantType !== 'video_limit_override' || b.videoLimitOverride !== undefined, {
    message: 'a video_limit_override grant needs videoLimitOverride',
    path: ['videoLimitOverride'],
  })
  .refine((b) => b.expiresAt === undefined || Date.parse(b.expiresAt) > Date.now(), {
    message: 'expiresAt must be in the future',
    path: ['expiresAt'],
  })
  .meta({ id: 'AdminGrantBody' });
export type AdminGrantBody = z.infer<typeof AdminGrantBodySchema>;

export const AdminGrantViewSchema = z
  .object({
    grantId: z.uuid(),
    userId: z.uuid(),
    grantType: z.enum(GRANT_TYPES),
    tierOverride: z.string().nullable(),
    videoLimitOverride: z.number().int().nullable(),
    reason: z.string(),
    expiresAt: z.string().nullable(),
    isActive: z.boolean(),
    revokedAt: z.string().nullable(),
    workflowId: z.string().describe('admin-grant:<grantId>: the workflow that ends the grant'),
  })
  .meta({ id: 'AdminGrant' });
export type AdminGrantView = z.infer<typeof AdminGrantViewSchema>;
