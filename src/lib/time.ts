/** The time in whole seconds (what a request's challenge records). */
export const wholeSeconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

/** ISO-8601 UTC with whole seconds, as the TSB shows times (`2020-06-24T08:54:47Z`). */
export const isoSeconds = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;
