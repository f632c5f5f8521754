import { randomBytes, randomUUID } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { openDatabase } from '../src/store/sqlite-writer'
import {
  ceilingPurchaseCount,
  ceilingPurchasesPerCommit,
  repeatCount,
  scratchDir,
} from './settings'
import { median, perSecond } from './stats'

/**
 * What SQLite alone allows: the rows a purchase writes, inserted raw with better-sqlite3 into
 * the store's own tables (`openDatabase`: same indexes, WAL, synchronous FULL, same disk), with
 * nothing else around them: no HTTP, no deciding, no hashing, no projections. A purchase is four
 * events, one on the programme's stream and three that open streams of their own (the purchased
 * voucher, the bonus voucher, the idempotency key), each named by a keyed hash, so every insert
 * lands at a random place of the indexes; and the four streams' revisions in `streams`. The
 * rows have the sizes the service writes. Purchases per second, the median of a few runs: no
 * server can answer durable purchases faster than this on the same disk.
 */
export const measurePurchaseCeiling = (): number => {
  mkdirSync(scratchDir, { recursive: true })
  const rates: number[] = []
  for (let run = 0; run < repeatCount; run += 1) rates.push(measureOnce())
  return median(rates)
}

/** Sizes of a purchase's stored JSON, read off the service's own rows. */
const dataChars = { programme: 200, voucher: 270, bonus: 200, accepted: 310 }
const metadataChars = 400

const measureOnce = (): number => {
  const path = join(scratchDir, `ceiling-${randomUUID()}.db`)
  const db = openDatabase(path)
  try {
    const insert = db.prepare(
      'INSERT INTO events (stream_id, revision, event_id, type, data, metadata) ' +
        'VALUES (?, ?, ?, ?, ?, ?)',
    )
    const upsert = db.prepare(
      'INSERT INTO streams (stream_id, revision) VALUES (?, ?) ' +
        'ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision',
    )
    const metadata = JSON.stringify({ padding: 'm'.repeat(metadataChars - 14) })
    const json = (chars: number) => JSON.stringify({ padding: 'd'.repeat(chars - 14) })
    let programmeRevision = -1
    const commit = db.transaction((purchases: number) => {
      for (let index = 0; index < purchases; index += 1) {
        programmeRevision += 1
        insert.run(
          'programme-P',
          programmeRevision,
          randomUUID(),
          'BonusGranted',
          json(dataChars.programme),
          metadata,
        )
        const opened = [
          [`voucher-${randomBytes(10).toString('hex')}`, 'VoucherPurchased', dataChars.voucher],
          [`voucher-${randomBytes(10).toString('hex')}`, 'BonusVoucherIssued', dataChars.bonus],
          [`idempotency-${randomBytes(16).toString('hex')}`, 'CommandAccepted', dataChars.accepted],
        ] as const
        for (const [streamId, type, chars] of opened) {
          insert.run(streamId, 0, randomUUID(), type, json(chars), metadata)
          upsert.run(streamId, 0)
        }
      }
      upsert.run('programme-P', programmeRevision)
    })
    const startMs = performance.now()
    for (let done = 0; done < ceilingPurchaseCount; done += ceilingPurchasesPerCommit) {
      commit.immediate(ceilingPurchasesPerCommit)
    }
    return perSecond(ceilingPurchaseCount, performance.now() - startMs)
  } finally {
    db.close()
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
  }
}
