/**
 * Types for the two pure-rand entry points the simulator uses. pure-rand 8 publishes its types
 * through package `exports` only, which the project's `moduleResolution: node` does not read;
 * these declarations repeat the published signatures so the simulator type-checks without a
 * change to the shared tsconfig.
 */
declare module 'pure-rand/generator/xoroshiro128plus' {
  export interface JumpableRandomGenerator {
    clone(): JumpableRandomGenerator
    next(): number
    getState(): readonly number[]
    jump(): void
  }
  export function xoroshiro128plus(seed: number): JumpableRandomGenerator
}

declare module 'pure-rand/distribution/uniformInt' {
  import type { JumpableRandomGenerator } from 'pure-rand/generator/xoroshiro128plus'
  export function uniformInt(rng: JumpableRandomGenerator, from: number, to: number): number
}

declare module 'pure-rand/distribution/uniformFloat64' {
  import type { JumpableRandomGenerator } from 'pure-rand/generator/xoroshiro128plus'
  export function uniformFloat64(rng: JumpableRandomGenerator): number
}
