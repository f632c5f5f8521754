import * as t from 'io-ts'
import { idPattern, siretPattern, communeCodePattern } from '../../domain/ids'
import { amountCentsMax } from '../../domain/money'
import { datePattern } from '../../domain/time'
import { fundersMax, textLengthMax } from '../limits'

/**
 * JSON Schema for the OpenAPI document, generated from the request codecs so the document says
 * exactly what the service checks. Only the shapes the codecs of this service use are known;
 * meeting another is a programming error, caught by the OpenAPI test.
 */
export type JsonSchema = Record<string, unknown>

const safeIntegerMax = Number.MAX_SAFE_INTEGER

/** Schemas of the named refinements and brands, by their codec name. */
const namedSchemas: Record<string, JsonSchema> = {
  Id: { type: 'string', pattern: idPattern.source, minLength: 1, maxLength: 64 },
  PositiveCents: { type: 'integer', minimum: 1, maximum: safeIntegerMax },
  AmountCents: { type: 'integer', minimum: 1, maximum: amountCentsMax },
  BoundedCents: { type: 'integer', minimum: 0, maximum: amountCentsMax },
  NonNegativeCents: { type: 'integer', minimum: 0, maximum: safeIntegerMax },
  Cents: { type: 'integer', minimum: -safeIntegerMax, maximum: safeIntegerMax },
  BasisPoints: { type: 'integer', minimum: 0, maximum: 10_000 },
  CalendarDate: { type: 'string', format: 'date', pattern: datePattern.source },
  Instant: { type: 'string', format: 'date-time' },
  Text: { type: 'string', minLength: 1, maxLength: textLengthMax },
  Siret: { type: 'string', pattern: siretPattern.source },
  CommuneCode: { type: 'string', pattern: communeCodePattern.source },
  Count: { type: 'integer', minimum: 0, maximum: safeIntegerMax },
  Quantity: { type: 'integer' },
}

interface Tagged {
  readonly _tag?: string
  readonly name: string
}

export const jsonSchemaOf = (codec: t.Mixed): JsonSchema => {
  const named = namedSchemas[codec.name]
  if (named !== undefined) return named
  const tagged = codec as unknown as Tagged & Record<string, unknown>
  switch (tagged._tag) {
    case 'ClosedType':
      return objectSchema(tagged.required as t.Props, tagged.optional as t.Props)
    case 'InterfaceType':
      return objectSchema(tagged.props as t.Props, {})
    case 'KeyofType':
      return { type: 'string', enum: Object.keys(tagged.keys as object) }
    case 'ArrayType':
      return { type: 'array', items: jsonSchemaOf(tagged.type as t.Mixed) }
    case 'RefinementType':
      if (codec.name === 'Funders') {
        return { ...jsonSchemaOf(tagged.type as t.Mixed), minItems: 1, maxItems: fundersMax }
      }
      return jsonSchemaOf(tagged.type as t.Mixed)
    case 'UnionType':
      return { anyOf: (tagged.types as t.Mixed[]).map(jsonSchemaOf) }
    case 'NullType':
      return { type: 'null' }
    case 'StringType':
      return { type: 'string' }
    case 'NumberType':
      return { type: 'number' }
    case 'BooleanType':
      return { type: 'boolean' }
    case 'AnyDictionaryType':
    case 'UnknownRecordType':
      return { type: 'object' }
    default:
      throw new Error(`no JSON schema for codec ${codec.name} (${String(tagged._tag)})`)
  }
}

const objectSchema = (required: t.Props, optional: t.Props): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(required),
  properties: Object.fromEntries(
    [...Object.entries(required), ...Object.entries(optional)].map(([key, codec]) => [
      key,
      jsonSchemaOf(codec),
    ]),
  ),
})
