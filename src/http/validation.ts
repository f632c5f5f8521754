import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { amountCentsMax } from '../../domain/money'
import { textLengthMax } from '../limits'

/**
 * Turns io-ts decoding failures into the `errors` list of a problem: one entry per bad field,
 * with the path of the field and what was expected, in words a caller can act on.
 */
export interface FieldError {
  readonly field: string
  readonly reason: string
}

/** What each named codec expects, said once. */
const expectations: Record<string, string> = {
  Id: 'an identifier of 1 to 64 characters of A-Za-z0-9._:-',
  PositiveCents: 'a whole number of cents above 0 (at most 2^53 - 1)',
  AmountCents: `a whole number of cents from 1 to ${amountCentsMax}`,
  BoundedCents: `a whole number of cents from 0 to ${amountCentsMax}`,
  NonNegativeCents: 'a whole number of cents, 0 or more (at most 2^53 - 1)',
  Cents: 'a whole number of cents',
  BasisPoints: 'a whole number of basis points from 0 to 10000',
  CalendarDate: 'a calendar date YYYY-MM-DD',
  Instant: 'an ISO 8601 UTC instant such as 2026-11-02T09:30:00Z',
  Text: `text of 1 to ${textLengthMax} characters, without control characters`,
  Siret: 'a SIRET of 14 digits',
  CommuneCode: 'an INSEE commune code of 5 characters',
  Count: 'a whole number, 0 or more',
  Quantity: 'a whole number',
  Funders: 'a list of 1 or more funders',
  UnknownRecord: 'a JSON object',
}

const reasonFor = (error: t.ValidationError): string => {
  if (error.message !== undefined) return error.message
  const last = error.context[error.context.length - 1]
  if (last === undefined) return 'is invalid'
  if (error.value === undefined) return 'is required'
  const name = last.type.name
  const expected = expectations[name] ?? (name.includes('|') ? `one of ${name}` : name)
  return `expected ${expected}`
}

/**
 * The dotted path of a field. Intersections (inside closed objects) add numeric keys of their
 * own to the context; those are dropped so `funders.0.name` keeps only the array index.
 */
const fieldOf = (error: t.ValidationError): string => {
  const keys: string[] = []
  error.context.forEach((entry, index) => {
    const parentTag = (error.context[index - 1]?.type as { _tag?: string } | undefined)?._tag
    const isMemberIndex =
      /^\d+$/.test(entry.key) && (parentTag === 'ClosedType' || parentTag === 'IntersectionType')
    if (entry.key !== '' && !isMemberIndex) keys.push(entry.key)
  })
  return keys.join('.')
}

/** One entry per field, first reason kept: an intersection reports a field once per branch. */
export const fieldErrorsOf = (errors: t.Errors): FieldError[] => {
  const byField = new Map<string, string>()
  for (const error of errors) {
    const field = fieldOf(error) || '(body)'
    if (!byField.has(field)) byField.set(field, reasonFor(error))
  }
  return [...byField].map(([field, reason]) => ({ field, reason }))
}

export const decodeWith = <A>(
  codec: t.Decoder<unknown, A>,
  input: unknown,
): E.Either<FieldError[], A> => E.mapLeft(fieldErrorsOf)(codec.decode(input))
