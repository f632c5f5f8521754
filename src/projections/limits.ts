/**
 * The limits of the projection runner, each with the reason for its number. They belong to a
 * projections block of `src/limits.ts`; they live here because that file is another area's.
 */

/**
 * Events per page of a rebuild's reads of the whole log. A thousand amortises the query and the
 * promise per page; larger pages were slower, because a page's parsed events stay alive while
 * it is applied and make every young-generation collection copy them.
 */
export const rebuildReadPageEventsMax = 1_000

/**
 * Events applied between two commits of a rebuild. Documents touched many times in that span are
 * written once, which is most of a rebuild's speed (at a quarter of this, writing was a fifth of
 * the rebuild); a crash loses at most this much replay, never consistency, because each commit
 * carries its checkpoint. Memory does not grow with it: every document is in memory anyway.
 */
export const rebuildCommitEventsMax = 1_000_000

/**
 * Projections a rebuild replays on a thread of their own, each reading from the log only the
 * events it reads, while the calling thread replays the others. The vouchers hold 314,000 of a
 * season's 316,000 documents and half of a rebuild's work on a million events, so the two
 * threads finish at about the same time.
 */
export const rebuildThreadProjections: readonly string[] = ['vouchers']

/**
 * The smallest log rebuilt with threads. Starting one (loading the code, opening the files)
 * takes a few hundred milliseconds: on two cores a thread made rebuilds of 60,000 events slower
 * and gained from about 150,000 (a fifth on 400,000, a third on a million).
 */
export const rebuildThreadEventsMin = 200_000

/**
 * How long a rebuild's commit waits for another thread's commit to the same projections file.
 * Writing a million events' voucher documents takes about a second; this is far beyond it, and
 * only a file locked by something else (a service left running) would reach it.
 */
export const rebuildCommitWaitMs = 60_000

/**
 * Documents written by one INSERT statement of a commit. Binding a hundred rows at once instead
 * of one costs the statement's run, the b-tree descent and the JavaScript-to-SQLite crossing
 * once per hundred: writing a rebuild's 314,000 voucher documents took 0.68 s instead of 1.17 s.
 * Beyond a hundred it gained nothing more; 300 parameters are far below SQLite's limit.
 */
export const docWriteRowsMax = 100

/**
 * Projections whose documents a live runner reads from the file on demand, because their number
 * grows with the log: one per voucher, 314,000 in a season. The others have one per merchant,
 * programme or account, a few hundred, and stay in memory, where queries that list them whole
 * read them without the file.
 */
export const onDemandProjections: readonly string[] = ['vouchers']

/**
 * Committed documents a live runner keeps parsed per projection and generation; it holds two
 * generations at most, the rest is read from the projections file when an event or a query
 * needs it. Loading all of them at start took 2.7 s of a 4.4 s cold start on a million events and
 * most of the memory; redemptions and payouts touch recent vouchers and the same few hundred
 * merchants and accounts, which this many covers, so a live event seldom reads the file.
 */
export const liveDocGenerationSizeMax = 50_000

/**
 * How often the runner asks the store for its head, to report lag while no events arrive; the
 * health check and metrics read the last answer, so they never wait on the store.
 */
export const headRefreshIntervalMs = 1_000

/** The longest `waitForPosition` accepts: reads wait a few seconds at most (API.md). */
export const positionWaitMsMax = 30_000

/**
 * The longest a live runner keeps applied events uncommitted while no read waits for them.
 * Each commit rewrites the pages of every document it changed, on the thread that serves
 * requests: at a thousand purchases a second, committing each page of events took about a third
 * of that thread in runs of 20 to 40 ms, while one commit per 50 ms writes the hot documents
 * (a programme's figures, a merchant's balance) once. A read that waits for a position (API.md,
 * minPosition) has it committed at once, so this delays no one who asked.
 */
export const liveCommitIntervalMs = 50

/**
 * Applied events that make a live runner commit before its interval is up, so a catch-up after
 * a restart commits in steps and its memory of staged documents stays bounded.
 */
export const liveCommitEventsMax = 10_000
