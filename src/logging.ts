import pino, { type Logger } from 'pino'

/**
 * The one place the logging policy lives. Secrets (API keys, signatures) and personal data
 * (customer ids) are redacted wherever they appear in a log object.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["ledger-signature"]',
  'headers.authorization',
  'headers["ledger-signature"]',
  '*.customerId',
  'customerId',
  'key',
  '*.key',
  'secret',
  '*.secret',
]

export const createLogger = (level: string): Logger =>
  pino({
    level,
    base: { service: 'moselle-sud-ledger' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
  })
