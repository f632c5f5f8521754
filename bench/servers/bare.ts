import Fastify from 'fastify'

/**
 * The baseline of the purchase figure: a bare Fastify route that validates a purchase body with
 * a JSON schema (the same fields, types and patterns as the ledger's codec) and echoes it with
 * 201. No authentication, no logging, no store: what this machine's HTTP stack costs alone.
 * Started as a child process with PORT, like the ledger, so both meet the same contention.
 */
const idSchema = { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' }

const purchaseBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'purchaseId',
    'programmeId',
    'merchantId',
    'customerId',
    'amountCents',
    'paymentReference',
  ],
  properties: {
    purchaseId: idSchema,
    programmeId: idSchema,
    merchantId: idSchema,
    customerId: idSchema,
    amountCents: { type: 'integer', minimum: 1 },
    paymentReference: { type: 'string', minLength: 1, maxLength: 200 },
    occurredAt: { type: 'string' },
  },
}

const main = async (): Promise<void> => {
  const app = Fastify({ logger: false })
  app.post('/v1/purchases', { schema: { body: purchaseBodySchema } }, async (request, reply) =>
    reply.status(201).send(request.body),
  )
  app.get('/health/ready', async () => ({ status: 'ready' }))
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
}

main().catch((error: unknown) => {
  process.stderr.write(`bare server failed: ${String(error)}\n`)
  process.exit(1)
})
