// #/content-plans: write a month of posts over your pillars, each placed in a posting slot.
import { call, onSubmit, startRun } from '../api.js';
import { el, field, flash, form, section, trackRun, when } from '../ui.js';

function nextMonth() {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 7);
}

async function showPlan(slot, planId) {
  const plan = await call('GET', '/v1/content-plans/' + encodeURIComponent(planId));
  slot.replaceChildren(
    el('p', {
      class: 'plan-summary',
      text:
        plan.month +
        ': ' +
        plan.completedPosts +
        ' of ' +
        plan.totalPosts +
        ' posts written, ' +
        plan.failedPosts +
        ' failed' +
        (plan.pausedUntil ? ', paused until ' + when(plan.pausedUntil) : ''),
    }),
    el('table', { class: 'plan' }, [
      el('caption', { text: 'Posts of ' + plan.month }),
      el('thead', {}, [
        el(
          'tr',
          {},
          ['When', 'Pillar', 'Caption', 'Status'].map((h) => el('th', { scope: 'col', text: h })),
        ),
      ]),
      el(
        'tbody',
        {},
        plan.posts.map((p) =>
          el('tr', { dataset: { postId: p.postId || '' } }, [
            el('td', {}, [p.postId ? el('a', { href: '#/posts', text: when(p.scheduledFor) }) : when(p.scheduledFor)]),
            el('td', { text: p.pillar }),
            el('td', { text: p.caption || p.hook }),
            el('td', { text: p.status + (p.error ? ': ' + p.error : '') }),
          ]),
        ),
      ),
    ]),
  );
}

export async function contentPlansPage(container) {
  const pillars = form(
    'pillars',
    [field('Content pillars (one per line: name — description)', 'textarea', { name: 'pillars', rows: '3' })],
    'Save pillars',
  );
  onSubmit(pillars, async (data) => {
    const list = data
      .get('pillars')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const [name, ...description] = line.split(/\s+[—-]\s+/);
        return description.length ? { name, description: description.join(' - ') } : { name };
      });
    await call('PUT', '/v1/content-pillars', { pillars: list });
    flash('Saved ' + list.length + (list.length === 1 ? ' pillar' : ' pillars'));
  });
  const run = el('div', { class: 'run-slot' });
  const slot = el('div');
  const plan = form(
    'content-plan',
    [
      field('Month', 'input', { name: 'month', type: 'month', value: nextMonth() }),
      el('div', { class: 'field' }, [
        el('input', { id: 'needs-approval', name: 'needsApproval', type: 'checkbox' }),
        el('label', { for: 'needs-approval', text: 'Posts wait for my approval' }),
      ]),
      field('Review window (days before each post)', 'input', { name: 'reviewWindowDays', type: 'number', min: '0', value: '3' }),
    ],
    'Write the month',
  );
  onSubmit(plan, async (data) => {
    const started = await startRun('POST', '/v1/content-plans/run', {
      month: data.get('month'),
      needsApproval: data.get('needsApproval') === 'on',
      reviewWindowDays: Number(data.get('reviewWindowDays')),
    });
    slot.replaceChildren();
    trackRun(run, started, (_run, current) => void showPlan(slot, current.planId));
  });
  container.append(section('Pillars', [pillars]), section('Monthly content plan', [plan, run, slot]));
}
