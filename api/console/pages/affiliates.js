// #/affiliates: become an affiliate, share the link, follow clicks, conversions and earnings.
import { ApiError, call, onSubmit } from '../api.js';
import { barChart, el, field, form, money, section, when } from '../ui.js';

async function report() {
  try {
    return await call('GET', '/v1/affiliates/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

function showReport(container, me) {
  const { affiliate, totals } = me;
  const cur = affiliate.currency;
  container.replaceChildren(
    section('Your referral link', [
      el('p', {}, [
        el('a', { class: 'referral-url', href: affiliate.referralUrl, text: new URL(affiliate.referralUrl, location.origin).href }),
      ]),
      el('p', {
        text: 'Code ' + affiliate.referralCode + ' · ' + affiliate.commissionRateBps / 100 + ' % commission · ' + affiliate.status,
      }),
      el('dl', { class: 'stats' }, [
        el('dt', { text: 'Clicks' }),
        el('dd', { class: 'clicks', text: String(me.clicks) }),
        el('dt', { text: 'Sign-ups' }),
        el('dd', { text: String(me.referrals) }),
        el('dt', { text: 'Paying customers' }),
        el('dd', { text: String(me.conversions) }),
      ]),
    ]),
    section('Earnings', [
      barChart('Earnings by state', [
        { label: 'Pending', value: totals.pendingCents, display: money(totals.pendingCents, cur) },
        { label: 'Eligible', value: totals.eligibleCents, display: money(totals.eligibleCents, cur) },
        { label: 'Paid', value: totals.paidCents, display: money(totals.paidCents, cur) },
        { label: 'Reversed', value: totals.reversedCents, display: money(totals.reversedCents, cur) },
      ]),
      me.payouts.length
        ? el('table', {}, [
            el('caption', { text: 'Payouts' }),
            el('thead', {}, [
              el(
                'tr',
                {},
                ['Month', 'Amount', 'Status', 'Paid'].map((h) => el('th', { scope: 'col', text: h })),
              ),
            ]),
            el(
              'tbody',
              {},
              me.payouts.map((p) =>
                el('tr', {}, [
                  el('td', { text: p.period }),
                  el('td', { text: money(p.amountCents, p.currency) }),
                  el('td', { text: p.status + (p.failureReason ? ': ' + p.failureReason : '') }),
                  el('td', { text: when(p.paidAt) }),
                ]),
              ),
            ),
          ])
        : el('p', { class: 'muted', text: 'No payouts yet.' }),
    ]),
  );
}

export async function affiliatesPage(container) {
  const me = await report();
  if (me) return showReport(container, me);
  const join = form(
    'affiliate',
    [
      field('Referral code (optional)', 'input', { name: 'referralCode', type: 'text' }),
      field('Stripe connected account for payouts (optional)', 'input', {
        name: 'stripeConnectedAccountId',
        type: 'text',
        placeholder: 'acct_…',
      }),
    ],
    'Become an affiliate',
  );
  onSubmit(join, async (data) => {
    const body = {};
    for (const key of ['referralCode', 'stripeConnectedAccountId']) if (data.get(key)) body[key] = data.get(key);
    await call('POST', '/v1/affiliates', body);
    showReport(container, await report());
  });
  container.append(section('Affiliate program', [el('p', { text: 'Earn a commission on every payment of the people you refer.' }), join]));
}
