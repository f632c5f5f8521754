import t from 'tap'
import { merchantsProjection } from '../../projections/merchants'
import { event, fold, merchantRegistered, recorded, chateauSalins } from './fixtures'

t.test('a registered merchant is in the directory with its place and category', async (t) => {
  const docs = fold(merchantsProjection, recorded([merchantRegistered('M1', chateauSalins)]))
  t.match(docs.get('M1'), {
    merchantId: 'M1',
    communeCode: '57132',
    communeName: 'Château-Salins',
    groupingName: 'CC du Saulnois',
    category: 'restaurant',
    status: 'active',
  })
})

t.test('suspension and reinstatement change the status only', async (t) => {
  const docs = fold(
    merchantsProjection,
    recorded([
      merchantRegistered('M1'),
      event('MerchantSuspended', { merchantId: 'M1', reason: 'audit' }),
    ]),
  )
  t.equal(docs.get('M1')?.status, 'suspended')
  fold(
    merchantsProjection,
    recorded([event('MerchantReinstated', { merchantId: 'M1', reason: 'ok' })], 3),
    docs,
  )
  t.equal(docs.get('M1')?.status, 'active')
  t.equal(docs.get('M1')?.communeCode, '57630')
})

t.test('a suspension of an unknown merchant changes nothing', async (t) => {
  const docs = fold(
    merchantsProjection,
    recorded([event('MerchantSuspended', { merchantId: 'M9', reason: 'x' })]),
  )
  t.equal(docs.size, 0)
})
