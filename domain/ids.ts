import * as t from 'io-ts'

/** Identifiers chosen by callers: 1 to 64 characters of A-Za-z0-9._:- (API.md). */
export const idPattern = /^[A-Za-z0-9._:-]{1,64}$/

export interface IdBrand {
  readonly Id: unique symbol
}

export const Id = t.brand(t.string, (s): s is t.Branded<string, IdBrand> => idPattern.test(s), 'Id')
export type Id = t.TypeOf<typeof Id>

/** A SIRET: 14 digits (the SIREN of the business and 5 digits for the establishment). */
export const siretPattern = /^[0-9]{14}$/

/** An INSEE commune code: 5 characters (Corsica has 2A and 2B). */
export const communeCodePattern = /^[0-9][0-9AB][0-9]{3}$/
