import { defineQuery } from '@temporalio/workflow';
import type { RunProgress } from '../../schemas/runs';

/** Every workflow answers this query with its live stage and progress. */
export const progressQuery = defineQuery<RunProgress>('progress');
