import t from 'tap'
import {
  annualTurnoverLimitCents,
  decideRegisterMerchant,
  decideReinstateMerchant,
  decideSuspendMerchant,
  employeesMax,
  evolveMerchant,
  initialMerchantState,
  passesLuhn,
  salesAreaLimitM2,
  type MerchantState,
  type RegisterMerchant,
} from '../../domain/merchant'
import type { Territory, TerritoryCommune } from '../../domain/territory'
import {
  cents,
  codeOf,
  context,
  decisionOf,
  futureContext,
  given,
  id,
  merchantM,
  merchantRegistered,
  merchantSuspended,
  nowAt,
  rejectionOf,
} from './decider-fixtures'

const phalsbourg: TerritoryCommune = {
  communeCode: '57540',
  communeName: 'Phalsbourg',
  groupingSiren: '245700950',
  groupingName: 'CC du Pays de Phalsbourg',
}

/** A territory of one commune: the domain only asks it questions. */
const territory: Territory = {
  communeOf: (code) => (code === phalsbourg.communeCode ? phalsbourg : undefined),
}

const register = (overrides: Partial<RegisterMerchant> = {}): RegisterMerchant => ({
  merchantId: merchantM,
  legalName: 'Boulangerie du Fort',
  siret: '73282932000074',
  communeCode: '57540',
  category: 'food',
  employees: 6,
  salesAreaM2: 120,
  annualTurnoverCents: cents(48_000_000),
  ...overrides,
})

const registered = (): MerchantState =>
  given(evolveMerchant, initialMerchantState, [merchantRegistered(merchantM)])

t.test('RegisterMerchant records the merchant with its commune and grouping', async (t) => {
  const command = register()
  const decision = decisionOf(
    decideRegisterMerchant(command, initialMerchantState, territory, context()),
  )
  t.strictSame(decision.response, { merchantId: merchantM, suspended: false })
  t.strictSame(decision.appends, [
    {
      streamId: 'merchant-boulangerie-m',
      events: [{ type: 'MerchantRegistered', data: { ...command, ...phalsbourg } }],
    },
  ])
  const state = given(evolveMerchant, initialMerchantState, decision.appends[0]?.events ?? [])
  t.strictSame(state, {
    registered: true,
    merchantId: merchantM,
    suspended: false,
    category: 'food',
    communeCode: '57540',
    groupingSiren: '245700950',
    lastOccurredAt: '2020-05-15T08:00:00.000Z',
  })
})

t.test('RegisterMerchant refuses, one case per rejection code', async (t) => {
  const cases = [
    {
      name: 'a merchant registered already',
      state: registered(),
      ctx: context(),
      code: 'already_exists',
    },
    {
      name: 'a future occurredAt',
      state: initialMerchantState,
      ctx: futureContext(),
      code: 'invalid_time',
    },
  ]
  for (const c of cases) {
    t.equal(codeOf(decideRegisterMerchant(register(), c.state, territory, c.ctx)), c.code, c.name)
  }
  const ineligible = register({ employees: 41 })
  t.equal(
    codeOf(decideRegisterMerchant(ineligible, initialMerchantState, territory, context())),
    'merchant_not_eligible',
  )
  t.equal(
    codeOf(decideRegisterMerchant(ineligible, registered(), territory, context())),
    'already_exists',
    'the first failing rule wins',
  )
})

t.test('eligibility: each criterion at its limit and just past it', async (t) => {
  const cases: { overrides: Partial<RegisterMerchant>; field: string | null }[] = [
    { overrides: { employees: employeesMax }, field: null },
    { overrides: { employees: employeesMax + 1 }, field: 'employees' },
    { overrides: { salesAreaM2: salesAreaLimitM2 - 1 }, field: null },
    { overrides: { salesAreaM2: salesAreaLimitM2 }, field: 'salesAreaM2' },
    { overrides: { annualTurnoverCents: cents(annualTurnoverLimitCents - 1) }, field: null },
    {
      overrides: { annualTurnoverCents: cents(annualTurnoverLimitCents) },
      field: 'annualTurnoverCents',
    },
    { overrides: { communeCode: '57463' }, field: 'communeCode' },
    { overrides: { siret: '73282932000075' }, field: 'siret' },
  ]
  t.equal(employeesMax, 40)
  t.equal(salesAreaLimitM2, 500)
  t.equal(annualTurnoverLimitCents, 150_000_000)
  for (const c of cases) {
    const command = register(c.overrides)
    const result = decideRegisterMerchant(command, initialMerchantState, territory, context())
    const name = JSON.stringify(c.overrides)
    if (c.field === null) {
      decisionOf(result)
      t.pass(`${name} is eligible`)
    } else {
      t.strictSame(rejectionOf(result).errors?.map((e) => e.field), [c.field], name)
    }
  }
})

t.test('an ineligible business learns every failed criterion at once', async (t) => {
  const command = register({
    employees: 250,
    salesAreaM2: 2_400,
    annualTurnoverCents: cents(900_000_000),
    communeCode: '57463',
    siret: '12345678901234',
  })
  const rejection = rejectionOf(
    decideRegisterMerchant(command, initialMerchantState, territory, context()),
  )
  t.equal(rejection.code, 'merchant_not_eligible')
  t.strictSame(
    rejection.errors?.map((e) => e.field),
    ['employees', 'salesAreaM2', 'annualTurnoverCents', 'communeCode', 'siret'],
  )
})

t.test('the SIRET check digit is Luhn', async (t) => {
  t.equal(passesLuhn('73282932000074'), true)
  t.equal(passesLuhn('44306184100047'), true)
  t.equal(passesLuhn('44306184100048'), false)
  t.equal(passesLuhn('7328293200007a'), false)
  t.equal(passesLuhn(''), false)
})

t.test('SuspendMerchant and ReinstateMerchant record the fact with its reason', async (t) => {
  const suspend = { merchantId: merchantM, reason: 'unpaid fees' }
  const suspended = decisionOf(decideSuspendMerchant(suspend, registered(), context()))
  t.strictSame(suspended.appends, [
    { streamId: 'merchant-boulangerie-m', events: [{ type: 'MerchantSuspended', data: suspend }] },
  ])
  t.strictSame(suspended.response, { merchantId: merchantM, suspended: true })

  const state = given(evolveMerchant, registered(), suspended.appends[0]?.events ?? [], nowAt)
  t.equal(state.registered && state.suspended, true)

  const again = decisionOf(decideSuspendMerchant(suspend, state, context()))
  t.equal(again.appends[0]?.events[0]?.type, 'MerchantSuspended', 'suspending twice is a fact too')

  const reinstate = { merchantId: merchantM, reason: 'fees paid' }
  const reinstated = decisionOf(decideReinstateMerchant(reinstate, state, context()))
  t.strictSame(reinstated.response, { merchantId: merchantM, suspended: false })
  const active = given(evolveMerchant, state, reinstated.appends[0]?.events ?? [], nowAt)
  t.equal(active.registered && active.suspended, false)

  const activeAgain = decisionOf(decideReinstateMerchant(reinstate, active, context()))
  t.equal(activeAgain.appends[0]?.events[0]?.type, 'MerchantReinstated')
})

t.test('SuspendMerchant and ReinstateMerchant refuse, one case per rejection code', async (t) => {
  const command = { merchantId: merchantM, reason: 'r' }
  const earlier = context('2020-05-15T07:59:59.999Z', { recordedAt: nowAt })
  const cases = [
    { name: 'an unknown merchant', state: initialMerchantState, ctx: context(), code: 'not_found' },
    {
      name: 'a future occurredAt',
      state: registered(),
      ctx: futureContext(),
      code: 'invalid_time',
    },
    {
      name: 'a stated time before the last event',
      state: registered(),
      ctx: earlier,
      code: 'invalid_time',
    },
  ]
  for (const c of cases) {
    t.equal(codeOf(decideSuspendMerchant(command, c.state, c.ctx)), c.code, `suspend: ${c.name}`)
    const reinstated = decideReinstateMerchant(command, c.state, c.ctx)
    t.equal(codeOf(reinstated), c.code, `reinstate: ${c.name}`)
  }
})

t.test('evolve asserts what a sound log never holds', async (t) => {
  t.throws(() => given(evolveMerchant, initialMerchantState, [merchantSuspended(merchantM)]))
  t.throws(() => given(evolveMerchant, registered(), [merchantRegistered(merchantM)]))
  const other = given(evolveMerchant, registered(), [
    { type: 'StockMoved', data: {} } as never,
  ])
  t.strictSame(other, registered(), 'events of other streams are ignored')
  t.equal(id('x'), 'x')
})
