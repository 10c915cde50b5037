import { CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { ProductActivities, ProductMediaActivities } from '../../activities/products';
import { FailureType, PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import type { ProductScrapeInput, ProductScrapeResult, ScrapeFailureReason } from '../../schemas/products';
import { databaseWrites, mediaQueueWork } from '../common/activity-options';
import { describeFailure, failureMessage } from '../common/failures';
import { trackRun } from '../common/run-tracking';
import { PRODUCT_SCRAPE_JOB_TYPE } from './contract';

const database = proxyActivities<ProductActivities>(databaseWrites({ nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES }));

// A site that times out or answers 5xx gets three tries, then the scrape fails with its reason.
const scraping = proxyActivities<ProductActivities>({
  startToCloseTimeout: '90 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
  },
});

const media = (taskQueue: string) =>
  proxyActivities<ProductMediaActivities>(
    mediaQueueWork(taskQueue, '3 minutes', {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '10 seconds',
      maximumAttempts: 3,
      nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
    }),
  );

/** The reason stored on the product row for the failure that ended the scrape. */
function scrapeFailureReason(err: unknown): ScrapeFailureReason {
  const { type } = describeFailure(err);
  if (type === FailureType.BlockedByRobots) return 'blocked_by_robots';
  if (type === FailureType.NotAProduct) return 'not_a_product';
  if (type === FailureType.ProviderTimeout || type === 'TimeoutFailure') return 'timeout';
  return 'fetch_failed';
}

/**
 * Scrapes one product page: robots.txt and the page (main queue), then its images, checked and
 * stored (media queue). A failure ends with scraping_status Failed and a reason on the row.
 */
export async function productScrapeWorkflow(input: ProductScrapeInput): Promise<ProductScrapeResult> {
  return trackRun({ type: PRODUCT_SCRAPE_JOB_TYPE, userId: input.userId, domainId: input.productId }, async (run) => {
    try {
      await run.stage('fetching_page', 10);
      const page = await scraping.scrapeProductPage({ productId: input.productId });
      await run.stage('storing_images', 60, { imagesFound: page.images.length });
      const stored = await media(input.mediaTaskQueue).storeProductImages({ productId: input.productId, images: page.images });
      await database.finishProductScrape({ productId: input.productId });
      await run.stage('done', 100, { imagesStored: stored.stored });
      return { productId: input.productId, name: page.name, images: stored.stored };
    } catch (err) {
      await CancellationScope.nonCancellable(() =>
        database.recordScrapeFailure({
          productId: input.productId,
          reason: isCancellation(err) ? 'fetch_failed' : scrapeFailureReason(err),
          message: failureMessage(err),
        }),
      );
      throw err;
    }
  });
}
