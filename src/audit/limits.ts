/**
 * The limits of the audit area, each with the reason for its number. They belong to the audit
 * block of `src/limits.ts`; they live here only because that file is another area's to edit.
 */

/** Events per read while sealing: a page of 1,000 events is well under a few megabytes. */
export const sealReadPageSize = 1_000

/** The sealer looks for new events at least this often, whatever its interval, to count them. */
export const sealPollMsMax = 1_000

/**
 * Events per page when verifying or exporting: large enough to amortise a read, small enough
 * that a page (a few milliseconds of work) does not hold up other requests of the service.
 */
export const auditReadPageSize = 1_000

/**
 * How far past its `throughPosition` a seal event may sit and still be rechecked: the verifier
 * keeps the hashes of this many unsealed events to find where the next seal cuts. A sealer
 * appends a few milliseconds after it read, so a real lag is a handful of events; 100,000 keeps
 * memory around 10 MB and leaves three orders of magnitude of slack.
 */
export const sealLagEventsMax = 100_000

/**
 * The number of events from which a verification hashes on a thread of its own (`digests.ts`):
 * starting the thread costs about a tenth of a second, what a few tens of thousands of events
 * take to hash.
 */
export const digestThreadEventsMin = 50_000
