import t from 'tap'
import type { CommandContext } from '../../domain/decider'
import {
  customerBonusCents,
  decideCreateProgramme,
  decideIncreaseBudget,
  evolveProgramme,
  initialProgrammeState,
  programmeVoucherIds,
  type CreateProgramme,
  type IncreaseBudget,
  type ProgrammeState,
} from '../../domain/programme'
import { streams } from '../../domain/streams'
import {
  cents,
  codeOf,
  context,
  customerId,
  day,
  decisionOf,
  event,
  futureContext,
  given,
  id,
  nowAt,
  occurred,
  programmeCreated,
  programmeId,
  rejectionOf,
} from './decider-fixtures'

const createCommand = (overrides: Partial<CreateProgramme> = {}): CreateProgramme => ({
  programmeId,
  name: 'Bons 2020',
  bonusRateBasisPoints: 2500,
  validFrom: day('2020-05-01'),
  validUntil: day('2020-12-31'),
  funders: [
    { funderId: id('cc-saulnois'), name: 'CC du Saulnois', contributionCents: cents(300_000) },
    { funderId: id('region-ge'), name: 'Région Grand Est', contributionCents: cents(200_000) },
  ],
  minVoucherCents: cents(1_000),
  maxVoucherCents: cents(50_000),
  maxBonusPerCustomerCents: cents(10_000),
  ...overrides,
})

const created = (): ProgrammeState =>
  given(evolveProgramme, initialProgrammeState, [programmeCreated()])

const granted = (voucher: string, bonusVoucher: string | null, bonusCents: number) =>
  event('BonusGranted', {
    programmeId,
    purchaseId: id(`purchase-${voucher}`),
    customerId,
    merchantId: id('boulangerie-m'),
    voucherId: id(voucher),
    bonusVoucherId: bonusVoucher === null ? null : id(bonusVoucher),
    requestedBonusCents: cents(bonusCents),
    bonusCents: cents(bonusCents),
  })

t.test('given nothing, CreateProgramme records the programme with its budget', async (t) => {
  const command = createCommand()
  const decision = decisionOf(decideCreateProgramme(command, initialProgrammeState, context()))

  t.strictSame(decision.response, { programmeId, budgetCents: 500_000 })
  t.strictSame(decision.appends, [
    {
      streamId: 'programme-moselle-sud-2020',
      events: [{ type: 'ProgrammeCreated', data: { ...command, funders: command.funders } }],
    },
  ])
})

t.test('CreateProgramme refuses, one case per rejection code', async (t) => {
  const cases: {
    name: string
    state: ProgrammeState
    command: CreateProgramme
    context: CommandContext
    code: string
  }[] = [
    {
      name: 'a programme that exists',
      state: created(),
      command: createCommand({ validFrom: day('2021-01-01') }),
      context: context(),
      code: 'already_exists',
    },
    {
      name: 'two funders with one id',
      state: initialProgrammeState,
      command: createCommand({
        funders: [
          { funderId: id('region-ge'), name: 'A', contributionCents: cents(1) },
          { funderId: id('region-ge'), name: 'B', contributionCents: cents(2) },
        ],
      }),
      context: context(),
      code: 'already_exists',
    },
    {
      name: 'an occurredAt in the future',
      state: initialProgrammeState,
      command: createCommand(),
      context: futureContext(),
      code: 'invalid_time',
    },
    {
      name: 'a validity that ends before it starts',
      state: initialProgrammeState,
      command: createCommand({ validFrom: day('2021-01-01'), validUntil: day('2020-12-31') }),
      context: context(),
      code: 'invalid_time',
    },
    {
      name: 'a minimum voucher above the maximum',
      state: initialProgrammeState,
      command: createCommand({ minVoucherCents: cents(50_001), maxVoucherCents: cents(50_000) }),
      context: context(),
      code: 'amount_out_of_range',
    },
    {
      name: 'a bonus rate above 100 %',
      state: initialProgrammeState,
      command: createCommand({ bonusRateBasisPoints: 10_001 }),
      context: context(),
      code: 'amount_out_of_range',
    },
  ]
  for (const c of cases) {
    t.equal(codeOf(decideCreateProgramme(c.command, c.state, c.context)), c.code, c.name)
  }
})

t.test('duplicate funders are each named in errors', async (t) => {
  const funder = (funderId: string) => ({
    funderId: id(funderId),
    name: 'F',
    contributionCents: cents(1),
  })
  const command = createCommand({ funders: [funder('a'), funder('b'), funder('a'), funder('b')] })
  const rejection = rejectionOf(decideCreateProgramme(command, initialProgrammeState, context()))

  t.strictSame(rejection.errors, [
    { field: 'funders.2.funderId', reason: 'repeats funders.0' },
    { field: 'funders.3.funderId', reason: 'repeats funders.1' },
  ])
})

t.test('a validity of one day and equal voucher limits are accepted', async (t) => {
  const command = createCommand({
    validFrom: day('2020-12-31'),
    validUntil: day('2020-12-31'),
    minVoucherCents: cents(5_000),
    maxVoucherCents: cents(5_000),
  })
  decisionOf(decideCreateProgramme(command, initialProgrammeState, context()))
  t.pass()
})

t.test('IncreaseBudget adds a funder contribution to the budget', async (t) => {
  const command: IncreaseBudget = {
    programmeId,
    increaseId: id('increase-1'),
    funderId: id('region-ge'),
    amountCents: cents(250_000),
  }
  const decision = decisionOf(decideIncreaseBudget(command, created(), context()))

  t.strictSame(decision.response, { budgetCents: 1_250_000 })
  t.strictSame(decision.appends, [
    {
      streamId: streams.programme(programmeId),
      events: [{ type: 'ProgrammeBudgetIncreased', data: command }],
    },
  ])

  const state = given(evolveProgramme, created(), decision.appends[0]?.events ?? [])
  if (!state.created) throw new Error('programme expected')
  t.equal(state.budgetCents, 1_250_000)
  t.equal(state.availableCents, 1_250_000)
  t.strictSame(
    state.funders.map((funder) => [funder.funderId, funder.contributionCents]),
    [
      ['cc-sarrebourg', 600_000],
      ['region-ge', 650_000],
    ],
  )
})

t.test('IncreaseBudget refuses, one case per rejection code', async (t) => {
  const increase = (funderId = 'region-ge'): IncreaseBudget => ({
    programmeId,
    increaseId: id('increase-1'),
    funderId: id(funderId),
    amountCents: cents(100),
  })
  const stated = (occurredAt: string) => context(occurredAt, { recordedAt: nowAt })
  const cases = [
    {
      name: 'an unknown programme',
      state: initialProgrammeState,
      funder: 'region-ge',
      ctx: context(),
      code: 'not_found',
    },
    {
      name: 'a funder of no contribution',
      state: created(),
      funder: 'ademe',
      ctx: context(),
      code: 'not_found',
    },
    {
      name: 'a future occurredAt',
      state: created(),
      funder: 'region-ge',
      ctx: futureContext(),
      code: 'invalid_time',
    },
    {
      name: 'a stated occurredAt before the stream last moved',
      state: created(),
      funder: 'region-ge',
      ctx: stated('2020-05-15T07:59:59.999Z'),
      code: 'invalid_time',
    },
  ]
  for (const c of cases) {
    t.equal(codeOf(decideIncreaseBudget(increase(c.funder), c.state, c.ctx)), c.code, c.name)
  }

  const sameInstant = stated('2020-05-15T08:00:00.000Z')
  decisionOf(decideIncreaseBudget(increase(), created(), sameInstant))
  const unstatedEarlier = context('2020-05-15T07:00:00.000Z', { stated: false })
  decisionOf(decideIncreaseBudget(increase(), created(), unstatedEarlier))
  t.pass('the same instant, or an earlier clock reading not stated by the caller, is accepted')
})

t.test('evolve keeps the figures of the budget and the vouchers issued', async (t) => {
  const state = given(evolveProgramme, initialProgrammeState, [
    programmeCreated({ maxBonusPerCustomerCents: cents(5_000) }),
    granted('v1', 'b1', 2_500),
    granted('v2', null, 0),
    event('BonusReleased', {
      programmeId,
      purchaseId: id('purchase-v1'),
      refundId: id('refund-1'),
      customerId,
      cancelledCents: cents(500),
      recoveredCents: cents(1_000),
    }),
    event('ExpiryRunCompleted', {
      programmeId,
      runId: id('run-1'),
      expiredVoucherCount: 1,
      expiredBonusCents: cents(700),
      expiredPurchasedCents: cents(0),
    }),
  ])
  if (!state.created) throw new Error('programme expected')

  t.equal(state.budgetCents, 1_000_000)
  t.equal(state.grantedCents, 2_500)
  t.equal(state.releasedCents, 1_500)
  t.equal(state.expiredBonusCents, 700)
  t.equal(state.availableCents, 1_000_000 - 2_500 + 1_500 + 700)
  t.equal(customerBonusCents(state, customerId), 1_000)
  t.equal(customerBonusCents(state, 'someone-else'), 0)
  t.strictSame(programmeVoucherIds(state), ['v1', 'b1', 'v2'])
  t.equal(state.expiryRan, true)
  t.equal(state.lastOccurredAt, '2020-05-15T08:00:00.000Z')
})

t.test('evolve keeps the latest occurredAt even when an event states an earlier one', async (t) => {
  let state = evolveProgramme(initialProgrammeState, occurred(programmeCreated(), nowAt))
  state = evolveProgramme(state, occurred(granted('v1', null, 0), '2020-06-01T00:00:00.000Z'))
  t.equal(state.lastOccurredAt, nowAt)
})

t.test('evolve asserts what a sound log never holds', async (t) => {
  t.throws(() => given(evolveProgramme, initialProgrammeState, [granted('v1', 'b1', 2_500)]))
  t.throws(() => given(evolveProgramme, created(), [programmeCreated()]))
  t.throws(
    () => given(evolveProgramme, created(), [granted('v1', 'b1', 1_000_001)]),
    /overspent/,
    'a grant above the budget',
  )
  t.throws(() =>
    given(evolveProgramme, created(), [
      event('ProgrammeBudgetIncreased', {
        programmeId,
        increaseId: id('i'),
        funderId: id('unknown-funder'),
        amountCents: cents(1),
      }),
    ]),
  )
  const noTime = { ...programmeCreated(), metadata: { occurredAt: 'yesterday' } }
  t.throws(() => evolveProgramme(initialProgrammeState, noTime), /no valid occurredAt/)
  const unrelated = event('MerchantSuspended', { merchantId: id('m'), reason: 'r' })
  t.equal(given(evolveProgramme, created(), [unrelated]).lastOccurredAt, created().lastOccurredAt)
})

t.test('per-customer totals stay apart across many customers', async (t) => {
  let state = created()
  for (let index = 0; index < 2_000; index += 1) {
    const grant = event('BonusGranted', {
      programmeId,
      purchaseId: id(`p${index}`),
      customerId: id(`customer-${index % 500}`),
      merchantId: id('m'),
      voucherId: id(`v${index}`),
      bonusVoucherId: null,
      requestedBonusCents: cents(index % 7),
      bonusCents: cents(index % 7),
    })
    state = evolveProgramme(state, occurred(grant, nowAt))
  }
  if (!state.created) throw new Error('programme expected')
  let expected = 0
  for (let index = 42; index < 2_000; index += 500) expected += index % 7
  t.equal(customerBonusCents(state, 'customer-42'), expected)
  t.equal(programmeVoucherIds(state).length, 2_000)
  t.equal(programmeVoucherIds(state)[1_999], 'v1999')
})
