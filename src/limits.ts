/**
 * Every limit of the service, each with the reason for its number. Areas append their own
 * block; the domain keeps its rule constants (eligibility thresholds, id length) beside the rule.
 */

// ---- HTTP edge ----

/** The largest command is a programme with its funders: 64 KiB leaves ample room. */
export const bodySizeBytesMax = 64 * 1024

/** Free text (names, reasons, payment references) longer than this is a mistake, not data. */
export const textLengthMax = 200

/** How long a read with `?minPosition` waits for the projections before answering 503. */
export const minPositionWaitMsMax = 5_000

/** Events per page of `GET /v1/ledger/events`; a page stays well under a megabyte. */
export const ledgerPageSizeMax = 1_000

/** A processor signature older than this is refused (API.md: 5 minutes). */
export const signatureToleranceMs = 5 * 60 * 1000

// ---- command handling ----

/**
 * Attempts of load-decide-append before a command answers 409 `concurrency_conflict`. The
 * in-process stream locks make conflicts rare on one instance; several instances on one hot
 * programme stream can still meet, and eight retries cover that without unbounded waiting.
 */
export const commandAttemptsMax = 8

/**
 * Stream snapshots kept by the command side. A snapshot is small (a voucher's state is a few
 * hundred bytes); 100,000 of them keep a season's active vouchers warm within tens of megabytes.
 */
export const streamCacheSizeMax = 100_000

/** Funders of one programme: the scheme has three; a hundred would be a mistake in the request. */
export const fundersMax = 100

/** Stock quantities in one movement: a billion of one item is beyond any small business. */
export const stockQuantityMax = 1_000_000_000

// ---- event store ----

/**
 * Append calls committed together in one SQLite transaction (group commit). One fsync is paid
 * for the whole batch; a thousand calls keep one flush well under the time of a few fsyncs on
 * the event loop, while matching the largest transaction size the benchmark compares against.
 */
export const appendBatchCallsMax = 1_000

/**
 * How often the embedded store's checkpointer copies the WAL back into the database file. At a
 * thousand purchases a second the WAL grows by a few hundred pages in this time, about what
 * SQLite's own checkpoint at 1,000 pages would copy, and a checkpoint with nothing to copy only
 * reads the WAL's index.
 */
export const walCheckpointIntervalMs = 200

/**
 * WAL frames (pages) past which the checkpointer makes the writer start the WAL again from its
 * beginning. Passive checkpoints never do: SQLite rewinds the WAL only when a write begins with
 * every frame copied, which under a steady load never happens, and a sustained 1,000 appends a
 * second grew it by 40 MB a second. The RESTART checkpoint that rewinds it holds the writer up
 * while it copies what the last passive one left and syncs the file, so it runs only this
 * seldom: every 64 MB of WAL, which also bounds the WAL file (journal_size_limit).
 */
export const walRestartFrames = 16_000

/**
 * Events committed in one SQLite transaction, whatever the number of calls: bounds how long a
 * single flush holds the write lock and blocks the event loop when calls are large.
 */
export const appendBatchEventsMax = 10_000

/**
 * Stream revisions the SQLite adapter remembers between group commits, so that appends to a
 * known stream skip a lookup. About 100 bytes each: ten megabytes at most; the cache is
 * emptied when full, which costs one lookup per stream afterwards and nothing else.
 */
export const streamRevisionCacheEntriesMax = 100_000

/**
 * Streams written per statement to the SQLite streams table at the end of a group commit: one
 * statement per stream cost a fifth of the append time, sixty-four per statement almost nothing,
 * and 128 bound parameters stay far below SQLite's limit.
 */
export const streamTipsPerStatementMax = 64

/**
 * Events the embedded store keeps, parsed, after committing them, for the readers of the log's
 * tail (the projections and the sealer), which read them within a second or two: 10,000 events
 * are 2.5 s of purchases at 1,000 a second and about 10 MB. A reader further behind reads the
 * file, as before.
 */
export const recentEventsKeptMax = 10_000

/** Events per page of a catch-up subscription or of `iterateAll`: about a megabyte at most. */
export const storeReadPageEventsMax = 1_000

/**
 * How often a SQLite subscription looks for events that another process appended to the same
 * file; commits of this process wake it at once, so this only bounds cross-process latency.
 */
export const sqlitePollIntervalMs = 250

/**
 * How long SQLite waits for another connection's write lock before failing: longer than any
 * group commit takes, short enough that a wedged process is reported rather than waited on.
 */
export const sqliteBusyTimeoutMs = 5_000

/** Deadline of one KurrentDB append: a cluster election takes a few seconds; more is an outage. */
export const kurrentAppendDeadlineMs = 10_000

/** Deadline of one KurrentDB read (a page of `$all`, a stream, the head position). */
export const kurrentReadDeadlineMs = 10_000

/** First delay before a dropped KurrentDB subscription reconnects; doubles on every failure. */
export const kurrentReconnectDelayMsMin = 100

/** Longest delay between two reconnection attempts of a KurrentDB subscription. */
export const kurrentReconnectDelayMsMax = 10_000

/**
 * Processor signatures remembered to refuse a replay. Five minutes of the processor's
 * thousands of requests per second fit; beyond it a full sweep frees the expired ones.
 */
export const signatureReplayEntriesMax = 1_000_000

/** Events per read of the whole log: large enough to amortise a query, small enough to stream. */
export const readAllPageSizeMax = 5_000
