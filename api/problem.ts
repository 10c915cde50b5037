/** An RFC 9457 problem the error handler renders as application/problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    /** Short slug; rendered as the problem `type` URI. */
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export const problemTypeUri = (slug: string): string => `https://problems.creator-jobs.dev/${slug}`;

export const notFound = (what = 'resource'): HttpProblem => new HttpProblem(404, 'not-found', 'Not Found', `${what} not found`);
