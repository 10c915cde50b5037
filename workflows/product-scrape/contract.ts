import { defineRun, USER_JOB } from '../common/run-definition';
import type { productScrapeWorkflow } from './workflow';

/** Product scrapes (EcomVideo AI): names shared by the API, the worker and tests. */
export const PRODUCT_SCRAPE_WORKFLOW_TYPE = 'productScrapeWorkflow';
export const PRODUCT_SCRAPE_JOB_TYPE = 'product-scrape';
/** One scrape per product row: a retried request joins it. */
export const productScrapeWorkflowId = (productId: string): string => `product-scrape:${productId}`;

export const productScrapeRun = defineRun<typeof productScrapeWorkflow>({
  workflowType: PRODUCT_SCRAPE_WORKFLOW_TYPE,
  jobType: PRODUCT_SCRAPE_JOB_TYPE,
  keysOf: (input) => ({ userId: input.userId, domainId: input.productId }),
  ...USER_JOB,
});
