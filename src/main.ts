import { assembleService } from './app/assemble'
import { ConfigError, loadConfig } from './config'
import { createLogger } from './logging'

/**
 * Starts the ledger service: reads the configuration, opens the store, catches the projections
 * up and listens. A bad configuration stops it at once with what to fix; SIGTERM and SIGINT
 * stop it cleanly (requests drain, the log is sealed, projections are saved).
 */
const main = async (): Promise<void> => {
  let config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const logger = createLogger(config.logLevel)
  const service = await assembleService(config, logger).catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(2)
    }
    throw error
  })
  const address = await service.app
    .listen({ port: config.port, host: config.host })
    .catch(async (error: NodeJS.ErrnoException) => {
      await service.close()
      const hint =
        error.code === 'EADDRINUSE'
          ? 'the port is taken: stop the other process or set PORT'
          : 'check HOST and PORT'
      process.stderr.write(
        `cannot listen on ${config.host}:${config.port}: ${error.message}; ${hint}\n`,
      )
      process.exit(2)
    })
  logger.info({ address, store: config.storeUrl }, 'ledger listening')

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((error: unknown) => {
  process.stderr.write(`ledger failed to start: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
