// #/credits: credit balance and ledger, AI spend against the plan's caps, as small charts.
import { ApiError, call } from '../api.js';
import { barChart, el, section, when } from '../ui.js';

const usd = (n) => '$' + n.toFixed(n < 1 ? 4 : 2);

export async function creditsPage(container) {
  const [credits, usage] = await Promise.all([
    call('GET', '/v1/credits?limit=20'),
    call('GET', '/v1/usage').catch((err) => (err instanceof ApiError && err.status === 404 ? null : Promise.reject(err))),
  ]);
  const used = Math.max(0, credits.totalUsed);
  container.append(
    section('Credits', [
      el('p', { class: 'balance' }, [el('span', { class: 'big', text: String(credits.balance) }), ' credits']),
      barChart('Credits: purchased, granted, used, left', [
        { label: 'Purchased', value: credits.totalPurchased },
        { label: 'Granted', value: credits.totalGranted },
        { label: 'Used', value: used },
        { label: 'Balance', value: credits.balance },
      ]),
      credits.expiring.length
        ? el(
            'ul',
            { class: 'expiring' },
            credits.expiring.map((e) => el('li', { text: e.amount + ' expire ' + when(e.expiresAt) })),
          )
        : null,
      el('table', { class: 'ledger' }, [
        el('caption', { text: 'Ledger, newest first' }),
        el('thead', {}, [
          el(
            'tr',
            {},
            ['When', 'Change', 'Type', 'Balance', 'Description'].map((h) => el('th', { scope: 'col', text: h })),
          ),
        ]),
        el(
          'tbody',
          {},
          credits.history.map((t) =>
            el('tr', {}, [
              el('td', { text: when(t.createdAt) }),
              el('td', { class: t.amount < 0 ? 'minus' : 'plus', text: (t.amount > 0 ? '+' : '') + t.amount }),
              el('td', { text: t.type }),
              el('td', { text: String(t.balanceAfter) }),
              el('td', { text: t.description || '' }),
            ]),
          ),
        ),
      ]),
    ]),
  );
  if (!usage) return;
  const { today, thisMonth } = usage;
  container.append(
    section('AI spend (' + usage.plan + ' plan)', [
      barChart('AI spend against the caps', [
        {
          label: 'Tokens today',
          value: today.tokens,
          limit: today.tokenLimit || undefined,
          display: today.tokens + (today.tokenLimit ? ' / ' + today.tokenLimit : ''),
        },
        {
          label: 'Tokens ' + thisMonth.month,
          value: thisMonth.tokens,
          limit: thisMonth.tokenLimit || undefined,
          display: String(thisMonth.tokens),
        },
        { label: 'Cost today', value: today.costUsd, limit: today.costLimitUsd || undefined, display: usd(today.costUsd) },
        {
          label: 'Cost ' + thisMonth.month,
          value: thisMonth.costUsd,
          limit: thisMonth.costLimitUsd || undefined,
          display: usd(thisMonth.costUsd) + (thisMonth.costLimitUsd ? ' / ' + usd(thisMonth.costLimitUsd) : ''),
        },
      ]),
      el('p', { class: 'muted', text: today.requests + ' model calls today, ' + thisMonth.requests + ' this month' }),
      ...usage.alerts.map((a) => el('p', { class: 'warning', text: a.message })),
    ]),
  );
}
