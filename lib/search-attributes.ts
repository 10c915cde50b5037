import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes registered on the dev server so ops can filter runs in the UI. */
export const UserIdAttr = defineSearchAttributeKey('UserId', SearchAttributeType.KEYWORD);
export const JobTypeAttr = defineSearchAttributeKey('JobType', SearchAttributeType.KEYWORD);
export const DomainIdAttr = defineSearchAttributeKey('DomainId', SearchAttributeType.KEYWORD);
/** The source video of video-import, regenerate, clips and thumbnail runs. */
export const VideoIdAttr = defineSearchAttributeKey('VideoId', SearchAttributeType.KEYWORD);

/** Name → type, as `temporal server start-dev --search-attribute` expects. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  UserId: 'Keyword',
  JobType: 'Keyword',
  DomainId: 'Keyword',
  VideoId: 'Keyword',
};
