import type { DbOrTx } from '../db/database';
import { listActiveSocialAccounts } from '../db/repositories/social-insights';
import type { Logger } from '../lib/logger';
import type { SocialAccountSchedules } from '../schemas/social-insights';

const PAGE = 200;

/**
 * Gives every active social account its Schedules at worker start (accounts connected before
 * they existed have none), a page of accounts at a time; existing ones are left as they are.
 */
export async function ensureSocialAccountSchedules(db: DbOrTx, schedules: SocialAccountSchedules, logger: Logger): Promise<number> {
  let afterId: string | null = null;
  let accounts = 0;
  for (;;) {
    const page = await listActiveSocialAccounts(db, afterId, PAGE);
    for (const account of page) await schedules.ensure({ id: account.id, userId: account.user_id, platform: account.platform });
    accounts += page.length;
    if (page.length < PAGE) break;
    afterId = page[page.length - 1]!.id;
  }
  if (accounts > 0) logger.info({ accounts }, 'social account schedules ensured');
  return accounts;
}
