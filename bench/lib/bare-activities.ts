/** The baseline's activities: no work at all, so only Temporal's own cost is measured. */
export const bareActivities = {
  async noop(step: number): Promise<number> {
    return step;
  },
};

export type BareActivities = typeof bareActivities;
