import { randomUUID } from 'node:crypto'
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { Logger } from 'pino'
import type { Config } from '../config'
import { bodySizeBytesMax } from '../limits'
import type { Metrics } from '../metrics'
import {
  principalOf,
  type KeyRing,
  type Principal,
  type Role,
  type SignatureVerifier,
} from './auth'
import { Problem, problemSchema } from './problems'
import { registerReadRoutes, type ReadService } from './read-routes'
import { registerWriteRoutes, type LedgerCommands } from './write-routes'
import type { AuditService } from './audit-routes'
import { registerAuditRoutes } from './audit-routes'

/**
 * The HTTP edge: JSON in and out, problem+json for every failure, API keys and roles, signed
 * processor deliveries, rate limits, request logs with secrets redacted, metrics and the OpenAPI
 * document. Handlers decode with the request codecs and call the application; they hold no rule.
 */
export interface ServerDeps {
  readonly config: Config
  readonly logger: Logger
  readonly keys: KeyRing
  readonly signatures: SignatureVerifier
  readonly commands: LedgerCommands
  readonly reads: ReadService
  readonly audit: AuditService
  readonly metrics: Metrics
  /** Epoch milliseconds; injected so tests can move time. */
  readonly clockMs: () => number
  readonly ready: () => { ready: boolean; detail: Record<string, unknown> }
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string
    principal?: Principal | null
  }
}

export const buildServer = async (deps: ServerDeps): Promise<FastifyInstance> => {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ module: 'http' }),
    // One line per request is written in `logAndCount`, with the policy of STYLE.md.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: bodySizeBytesMax,
    genReqId: (req) => headerValue(req.headers['x-request-id']) ?? randomUUID(),
    ajv: { customOptions: { strict: false } },
    // Errors the router meets before any route runs (a bad URL, an over-long parameter) get a
    // problem like every other answer.
    frameworkErrors: (error, request, reply) => {
      void sendProblem(
        new Problem('invalid_request', `unusable request URL: ${error.message}`),
        request,
        reply,
      )
    },
  }) as unknown as FastifyInstance

  // Bodies are decoded by the io-ts codecs in the handlers, the one source of truth; the JSON
  // schemas on routes exist for the OpenAPI document only.
  app.setValidatorCompiler(() => () => true)
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  registerJsonParser(app)
  app.setErrorHandler((error, request, reply) => sendProblem(problemOf(error), request, reply))
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      new Problem('not_found', `no route ${request.method} ${request.url}`),
      request,
      reply,
    ),
  )
  app.addHook('onResponse', async (request, reply) => logAndCount(deps, request, reply))

  await app.register(rateLimit, { global: false })
  await app.register(swagger, { openapi: openApiInfo })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.addSchema({ $id: 'Problem', ...problemSchema })

  const guard = makeGuard(app, deps)
  registerWriteRoutes(app, deps, guard)
  registerReadRoutes(app, deps, guard)
  registerAuditRoutes(app, deps, guard)
  registerOperationalRoutes(app, deps)
  return app
}

/** The hooks a protected route runs: the rate limit first, then the role check. */
export type Guard = (roles: readonly Role[]) => {
  onRequest: ((request: FastifyRequest, reply: FastifyReply) => Promise<void>)[]
}

const makeGuard = (app: FastifyInstance, deps: ServerDeps): Guard => {
  const limits = deps.config.rateLimits
  const limiter = app.rateLimit({
    timeWindow: 1000,
    keyGenerator: (request) => {
      const principal = resolvePrincipal(deps.keys, request)
      return principal === null ? `ip:${request.ip}` : `key:${principal.keyId}`
    },
    max: (request) => {
      const role = resolvePrincipal(deps.keys, request)?.role
      if (role === undefined) return limits.anonymousPerSecond
      return role === 'operator' || role === 'processor'
        ? limits.trustedPerSecond
        : limits.keyedPerSecond
    },
    errorResponseBuilder: (_request, context) =>
      new Problem('rate_limited', `limit of ${context.max} requests per ${context.after}`),
  })
  return (roles) => ({
    onRequest: [
      limiter as (request: FastifyRequest, reply: FastifyReply) => Promise<void>,
      async (request) => {
        const principal = resolvePrincipal(deps.keys, request)
        if (principal === null) {
          throw new Problem('unauthenticated', 'send Authorization: Bearer <api key>')
        }
        if (!roles.includes(principal.role)) {
          throw new Problem('forbidden', `the ${principal.role} role may not do this`)
        }
      },
    ],
  })
}

const resolvePrincipal = (keys: KeyRing, request: FastifyRequest): Principal | null => {
  if (request.principal === undefined) {
    request.principal = principalOf(keys, headerValue(request.headers.authorization)) ?? null
  }
  return request.principal
}

const headerValue = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value

/** Keeps the raw body (the processor's signature covers it) and answers malformed JSON with 400. */
const registerJsonParser = (app: FastifyInstance): void => {
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser(
    /^application\/([\w.+-]+\+)?json(;.*)?$/,
    { parseAs: 'string', bodyLimit: bodySizeBytesMax },
    (request, body, done) => {
      const text = body as string
      request.rawBody = text
      try {
        done(null, text.length === 0 ? undefined : JSON.parse(text))
      } catch (error) {
        done(
          new Problem('invalid_request', `malformed JSON: ${(error as Error).message}`),
          undefined,
        )
      }
    },
  )
}

/** Maps anything thrown to a problem; unknown errors become a 500 that hides their text. */
const problemOf = (error: unknown): Problem => {
  if (error instanceof Problem) return error
  const fastifyError = error as { code?: string; statusCode?: number; message?: string }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem('payload_too_large', `the body may be at most ${bodySizeBytesMax} bytes`)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem('unsupported_media_type', 'send Content-Type: application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Problem('invalid_request', fastifyError.message ?? 'invalid body')
    default:
      break
  }
  if ((error as { _tag?: string })._tag === 'StoreUnavailable') {
    return Object.assign(new Problem('store_unavailable', 'the event store did not answer'), {
      cause: error,
    })
  }
  if (fastifyError.statusCode !== undefined && fastifyError.statusCode < 500) {
    return new Problem('invalid_request', fastifyError.message ?? 'invalid request')
  }
  return Object.assign(new Problem('internal_error', 'an unexpected error was logged'), {
    cause: error,
  })
}

const sendProblem = (problem: Problem, request: FastifyRequest, reply: FastifyReply) => {
  if (problem.status >= 500) {
    request.log.error({ err: problem.cause ?? problem, code: problem.code }, 'request failed')
  }
  return reply
    .status(problem.status)
    .type('application/problem+json')
    .send(problem.toJSON(request.url))
}

/** One log line and one metric per request: 5xx at error (logged above), 4xx and 2xx at info. */
const logAndCount = (deps: ServerDeps, request: FastifyRequest, reply: FastifyReply): void => {
  const route = request.routeOptions.url ?? 'unknown'
  const durationMs = reply.elapsedTime
  deps.metrics.observeRequest(request.method, route, reply.statusCode, durationMs)
  if (reply.statusCode < 500) {
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        durationMs: Math.round(durationMs * 10) / 10,
        keyId: request.principal?.keyId,
      },
      'request',
    )
  }
}

const registerOperationalRoutes = (app: FastifyInstance, deps: ServerDeps): void => {
  const hidden = { schema: { hide: true } }
  app.get('/health/live', hidden, async () => ({ status: 'live' }))
  app.get('/health/ready', hidden, async (_request, reply) => {
    const { ready, detail } = deps.ready()
    return reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not_ready', ...detail })
  })
  app.get('/metrics', hidden, async (_request, reply) =>
    reply.type(deps.metrics.contentType).send(await deps.metrics.render()),
  )
}

const openApiInfo = {
  openapi: '3.0.3',
  info: {
    title: 'Moselle Sud voucher ledger',
    description:
      'Event-sourced double-entry ledger of the Moselle Sud local-shopping voucher scheme. ' +
      'Money is integer euro cents; errors are application/problem+json with a `code`.',
    version: '1.0.0',
  },
  components: {
    securitySchemes: { apiKey: { type: 'http' as const, scheme: 'bearer' } },
  },
  security: [{ apiKey: [] }],
}
