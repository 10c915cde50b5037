import { createHash } from 'node:crypto';

/**
 * A uuid fixed by its name (SHA-256, version 8 layout): a row keyed by one can be created by
 * whichever of the API or a retried activity gets there first, and found again by the other.
 */
export function uuidFromName(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The id of a user's content plan of a month (content_generation_jobs.id), known to the API before the run starts. */
export const contentPlanId = (userId: string, month: string): string => uuidFromName(`content-plan:${userId}:${month}`);
