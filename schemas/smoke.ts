import { z } from 'zod';
import { nonBlankText } from './common';

export const SmokeInputSchema = z.object({
  name: nonBlankText(100).default('world'),
  /** Durable timer before the activity, to show a run waiting (and surviving restarts). */
  delayMs: z.number().int().min(0).max(3_600_000).default(0),
});
export type SmokeInput = z.infer<typeof SmokeInputSchema>;

export interface SmokeWorkflowInput extends SmokeInput {
  userId: string | null;
}

export interface SmokeResult {
  greeting: string;
}
