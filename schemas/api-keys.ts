import { z } from 'zod';
import { nonBlankText } from './common';

/** What a key may do; `admin` is honoured only for users whose role is admin. */
export const API_SCOPES = ['runs:read', 'runs:write', 'keys:manage', 'billing', 'admin'] as const;
export const ApiScopeSchema = z.enum(API_SCOPES);
export type ApiScope = z.infer<typeof ApiScopeSchema>;

/** Scopes a regular user's keys get by default. */
export const USER_SCOPES: readonly ApiScope[] = ['runs:read', 'runs:write', 'keys:manage', 'billing'];
export const ADMIN_SCOPES: readonly ApiScope[] = API_SCOPES;

/** Live (unrevoked, unexpired) keys one user may hold: the keys share one rate budget, and a cap bounds what a leaked key can mint. */
export const MAX_API_KEYS_PER_USER = 10;

export const CreateApiKeyBodySchema = z
  .object({
    name: nonBlankText(255),
    /** Defaults to the calling key's scopes; may not exceed them. */
    scopes: z.array(ApiScopeSchema).min(1).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    /** Requests per minute for this key; capped by the plan's limit. */
    rateLimit: z.number().int().min(1).max(100_000).optional(),
  })
  .strict()
  .meta({ id: 'CreateApiKeyBody' });
export type CreateApiKeyBody = z.infer<typeof CreateApiKeyBodySchema>;

export const ApiKeySummarySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe('public lookup handle, safe to show'),
    scopes: z.array(z.string()),
    rateLimit: z.number().int().nullable(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    usageCount: z.number().int(),
    createdAt: z.string(),
  })
  .meta({ id: 'ApiKeySummary' });
export type ApiKeySummary = z.infer<typeof ApiKeySummarySchema>;

export const CreatedApiKeySchema = ApiKeySummarySchema.extend({
  key: z.string().describe('the plaintext key: shown once, store it now'),
}).meta({ id: 'CreatedApiKey' });

export const ApiKeyListSchema = z.object({ data: z.array(ApiKeySummarySchema) }).meta({ id: 'ApiKeyList' });

export const StreamTokenSchema = z
  .object({
    token: z.string().describe('pass as ?access_token= on GET /v1/runs/{runId}/events only'),
    expiresAt: z.string(),
  })
  .meta({ id: 'StreamToken' });
