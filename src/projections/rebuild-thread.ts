import { parentPort, workerData } from 'node:worker_threads'
import { allProjections } from '../../projections'
import { openSqliteEventStore } from '../store/sqlite'
import { ProjectionDocStore } from './doc-store'
import { rebuildCommitWaitMs } from './limits'
import { replayProjections } from './rebuild'
import type { RebuildThreadTask } from './rebuild-threads'

/**
 * A rebuild thread (see `rebuildOnThread`): replays one projection from the store's file into
 * the projections file, then says it is done. A failure ends the thread with its error, which
 * the rebuild reports.
 */

const port = parentPort
if (port === null) throw new Error('assertion failed: a rebuild thread runs in a worker thread')

const rebuildOne = async (task: RebuildThreadTask): Promise<void> => {
  const projection = allProjections.find((p) => p.name === task.name)
  if (projection === undefined) throw new Error(`no projection is named ${task.name}`)
  const store = openSqliteEventStore({ path: task.storePath })
  const docStore = new ProjectionDocStore(task.projectionsPath, rebuildCommitWaitMs)
  try {
    await replayProjections(store, docStore, [projection], task.head)
  } finally {
    docStore.close()
    await store.close()
  }
}

// A failure is left unhandled on purpose: it ends the thread with an 'error' carrying it.
void rebuildOne(workerData as RebuildThreadTask).then(() => port.postMessage('done'))
