import { parentPort, workerData } from 'node:worker_threads'
import { allProjections } from '../../projections'
import { openSqliteEventStore } from '../store/sqlite'
import { ProjectionDocStore } from './doc-store'
import { rebuildCommitWaitMs } from './limits'
import { replayProjections } from './rebuild'
import type { RebuildThreadReply, RebuildThreadTask } from './rebuild-threads'

/**
 * A rebuild thread (see `rebuildOnThread`): replays one projection from the store's file into
 * the projections file, then says it is done, or what failed, which the rebuild reports.
 */

const port = parentPort
if (port === null) throw new Error('assertion failed: a rebuild thread runs in a worker thread')

const rebuildOne = async (task: RebuildThreadTask): Promise<void> => {
  const projection = allProjections.find((p) => p.name === task.name)
  if (projection === undefined) throw new Error(`no projection is named ${task.name}`)
  // The file the rebuild reads, or an error: never an empty log made where it has gone.
  const store = openSqliteEventStore({ path: task.storePath, fileMustExist: true })
  const docStore = new ProjectionDocStore(task.projectionsPath, {
    commitWaitMs: rebuildCommitWaitMs,
  })
  try {
    const head = await store.headPosition()
    if (head < task.head) {
      throw new Error(`${task.storePath} ends at ${head}, before the head ${task.head} to rebuild`)
    }
    await replayProjections(store, docStore, [projection], task.head)
  } finally {
    docStore.close()
    await store.close()
  }
}

rebuildOne(workerData as RebuildThreadTask).then(
  () => port.postMessage({ done: true } satisfies RebuildThreadReply),
  (error: unknown) => {
    const failed = error instanceof Error ? error.message : String(error)
    port.postMessage({ failed } satisfies RebuildThreadReply)
  },
)
