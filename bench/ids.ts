import { passesLuhn } from '../domain/merchant'

/** A 14-digit SIRET that passes the Luhn check, different for every index. */
export const luhnSiretOf = (index: number): string => {
  const body = `8${String(index).padStart(12, '0')}`
  for (let check = 0; check <= 9; check += 1) {
    if (passesLuhn(`${body}${check}`)) return `${body}${check}`
  }
  throw new Error('assertion failed: no Luhn check digit')
}
