// #/posts: connect accounts, set the weekly posting slots, schedule a post, see the week's calendar.
import { ApiError, call, onSubmit, startRun } from '../api.js';
import { choices, el, field, flash, form, options, section } from '../ui.js';

const PLATFORMS = ['instagram', 'facebook', 'tiktok', 'linkedin', 'x', 'youtube'];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_MS = 86_400_000;

/** Monday 00:00 (local) of the week containing `date`. */
function weekStart(date) {
  const d = new Date(date);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
  return d;
}

const time = (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** The slots of the saved schedule falling on `day` (local), as "HH:MM" in the schedule's zone. */
function slotsOn(schedule, day) {
  if (!schedule) return [];
  const weekday = new Intl.DateTimeFormat('en-US', { timeZone: schedule.timezone, weekday: 'short' }).format(
    new Date(day.getTime() + DAY_MS / 2),
  );
  return schedule.days.includes(weekday.toLowerCase().slice(0, 3)) ? schedule.times : [];
}

function calendar(state) {
  const start = state.week;
  const days = Array.from({ length: 7 }, (_, i) => new Date(start.getTime() + i * DAY_MS));
  const { schedule } = state;
  const grid = el('div', { class: 'calendar', role: 'grid', 'aria-label': 'Posts in the week of ' + start.toLocaleDateString() });
  for (const day of days) {
    const next = new Date(day.getTime() + DAY_MS);
    const posts = state.posts.filter((p) => new Date(p.scheduledAt) >= day && new Date(p.scheduledAt) < next);
    grid.append(
      el('div', { class: 'day', role: 'gridcell', dataset: { date: day.toISOString().slice(0, 10) } }, [
        el('h3', { text: day.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' }) }),
        el(
          'ul',
          { class: 'slots', 'aria-label': 'Posting slots' },
          slotsOn(schedule, day).map((t) => el('li', { class: 'slot', text: 'slot ' + t })),
        ),
        el(
          'ul',
          { class: 'posts' },
          posts.map((p) =>
            el('li', { class: 'post status-' + p.status, dataset: { postId: p.id, status: p.status } }, [
              el('time', { datetime: p.scheduledAt, text: time(new Date(p.scheduledAt)) }),
              ' ',
              el('span', {
                class: 'platform',
                text: p.targets && p.targets.length > 1 ? p.targets.map((t) => t.platform).join('+') : p.platform,
              }),
              el('p', { class: 'caption', text: p.caption }),
              el('span', { class: 'post-status', text: p.status.replace(/_/g, ' ') }),
              p.error ? el('p', { class: 'error', text: p.error }) : null,
            ]),
          ),
        ),
      ]),
    );
  }
  return grid;
}

export async function postsPage(container) {
  const state = { week: weekStart(new Date()), posts: [], accounts: [], schedule: null };
  const accountList = el('ul', { class: 'accounts' });
  const accountChoices = el('div');
  const calendarSlot = el('div');
  const weekLabel = el('span', { class: 'week-label', 'aria-live': 'polite' });

  const loadAccounts = async () => {
    state.accounts = (await call('GET', '/v1/social-accounts')).accounts;
    accountList.replaceChildren(
      ...state.accounts.map((a) => el('li', { text: a.platform + ' — ' + (a.username || a.platformUserId || a.id) + ' — ' + a.status })),
    );
    const active = state.accounts.filter((a) => a.status === 'active' && a.platform !== 'ayrshare');
    accountChoices.replaceChildren(
      choices(
        'Post to',
        'socialAccountIds',
        active.map((a) => [a.id, a.platform + ' · ' + (a.username || a.platformUserId)]),
        { checked: active.slice(0, 1).map((a) => a.id) },
      ),
    );
  };
  const loadWeek = async () => {
    const to = new Date(state.week.getTime() + 7 * DAY_MS);
    state.posts = (
      await call('GET', '/v1/posts?from=' + encodeURIComponent(state.week.toISOString()) + '&to=' + encodeURIComponent(to.toISOString()))
    ).posts;
    weekLabel.textContent = 'Week of ' + state.week.toLocaleDateString();
    calendarSlot.replaceChildren(calendar(state));
  };
  const loadSchedule = async () => {
    try {
      state.schedule = await call('GET', '/v1/posting-schedule');
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
  };
  const moveWeek = (weeks) => async () => {
    state.week = new Date(state.week.getTime() + weeks * 7 * DAY_MS);
    await loadWeek();
  };

  const connect = form(
    'connect-account',
    [
      field(
        'Platform',
        'select',
        { name: 'platform' },
        options(
          PLATFORMS.map((p) => [p, p]),
          'x',
        ),
      ),
      field('Access token', 'input', { name: 'accessToken', type: 'password', autocomplete: 'off', required: true }),
      field('Refresh token (optional)', 'input', { name: 'refreshToken', type: 'password', autocomplete: 'off' }),
      field('Account id on the platform (X, Facebook, Instagram)', 'input', { name: 'platformUserId', type: 'text' }),
      field('Username (optional)', 'input', { name: 'username', type: 'text' }),
    ],
    'Connect account',
  );
  onSubmit(connect, async (data) => {
    const body = { platform: data.get('platform'), accessToken: data.get('accessToken') };
    for (const key of ['refreshToken', 'platformUserId', 'username']) if (data.get(key)) body[key] = data.get(key);
    const account = await call('POST', '/v1/social-accounts', body);
    connect.reset();
    flash('Connected ' + account.platform + ' ' + (account.username || ''));
    await loadAccounts();
  });

  const slots = form(
    'posting-schedule',
    [
      field('Time zone', 'input', { name: 'timezone', type: 'text', value: Intl.DateTimeFormat().resolvedOptions().timeZone }),
      choices(
        'Days',
        'days',
        DAYS.map((d) => [d, d]),
        { checked: DAYS.slice(0, 5) },
      ),
      field('Times (HH:MM, comma-separated)', 'input', { name: 'times', type: 'text', value: '09:00, 17:00' }),
    ],
    'Save posting slots',
  );
  onSubmit(slots, async (data) => {
    const times = data
      .get('times')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    state.schedule = await call('PUT', '/v1/posting-schedule', { timezone: data.get('timezone'), days: data.getAll('days'), times });
    flash('Posting slots saved');
    await loadWeek();
  });

  const post = form(
    'post',
    [
      accountChoices,
      field('Caption', 'textarea', { name: 'caption', rows: '3', required: true }),
      field('Hashtags (space-separated)', 'input', { name: 'hashtags', type: 'text' }),
      field(
        'Media type',
        'select',
        { name: 'mediaType' },
        options(
          [
            ['image', 'Image'],
            ['video', 'Video'],
            ['carousel', 'Carousel'],
          ],
          'image',
        ),
      ),
      field('Media URLs (one per line)', 'textarea', { name: 'mediaUrls', rows: '2' }),
      choices(
        'When',
        'when',
        [
          ['next', 'Next free posting slot'],
          ['at', 'At a time'],
        ],
        { type: 'radio', checked: ['at'] },
      ),
      field('Time', 'input', { name: 'scheduledAt', type: 'datetime-local' }),
      choices('Review', 'needsApproval', [['yes', 'Needs my approval before publishing']]),
    ],
    'Schedule post',
  );
  onSubmit(post, async (data) => {
    const body = { caption: data.get('caption'), mediaType: data.get('mediaType'), socialAccountIds: data.getAll('socialAccountIds') };
    const hashtags = data.get('hashtags').split(/\s+/).filter(Boolean);
    if (hashtags.length) body.hashtags = hashtags;
    const mediaUrls = data
      .get('mediaUrls')
      .split('\n')
      .map((u) => u.trim())
      .filter(Boolean);
    if (mediaUrls.length) body.mediaUrls = mediaUrls;
    if (data.get('when') === 'next') body.slot = 'next';
    else if (data.get('scheduledAt')) body.scheduledAt = new Date(data.get('scheduledAt')).toISOString();
    if (data.get('needsApproval')) body.needsApproval = true;
    const started = await startRun('POST', '/v1/posts', body);
    flash('Post ' + started.status.replace(/_/g, ' ') + ' for ' + new Date(started.scheduledAt).toLocaleString());
    state.week = weekStart(new Date(started.scheduledAt));
    await loadWeek();
  });

  container.append(
    section('Calendar', [
      el('div', { class: 'week-nav' }, [
        el('button', { type: 'button', text: '← Previous week', onclick: moveWeek(-1) }),
        weekLabel,
        el('button', { type: 'button', text: 'Next week →', onclick: moveWeek(1) }),
      ]),
      calendarSlot,
    ]),
    section('Schedule a post', [post]),
    section('Posting slots', [slots]),
    section('Accounts', [accountList, connect]),
  );
  await Promise.all([loadAccounts(), loadSchedule()]);
  await loadWeek();
}
