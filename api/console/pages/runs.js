// #/runs: your runs with live progress; #/runs/:id: one run, its counters, result and failure.
import { call } from '../api.js';
import { followRun } from '../sse.js';
import { el, onLeave, renderRunInto, runPanel, section, trackRun, when } from '../ui.js';

const LIVE_STREAMS = 3;

export async function runsPage(container) {
  const list = el('div', { class: 'runs' });
  const refresh = el('button', { type: 'button', text: 'Refresh' });
  container.append(section('Your runs', [refresh, list]));
  let streams = [];
  const stopStreams = () => streams.forEach((stop) => stop());
  onLeave(stopStreams);
  const load = async () => {
    const page = await call('GET', '/v1/runs?limit=25');
    stopStreams();
    streams = [];
    list.replaceChildren();
    let live = 0;
    if (page.data.length === 0) list.append(el('p', { class: 'muted', text: 'No runs yet: start one from a page above.' }));
    for (const run of page.data) {
      const panel = runPanel(run.id);
      panel.append(el('p', { class: 'muted', text: 'started ' + when(run.startedAt) }));
      renderRunInto(panel, run);
      list.append(panel);
      // A browser holds 6 connections per origin: only the newest running runs are followed live.
      if (run.status === 'running' && live++ < LIVE_STREAMS) streams.push(followRun(run.id, (update) => renderRunInto(panel, update)));
    }
  };
  refresh.addEventListener('click', () => void load());
  await load();
}

export async function runPage(container, [runId]) {
  const live = el('div');
  const details = el('div', { class: 'run-details' });
  container.append(section('Run ' + runId, [live, details]));
  trackRun(live, { runId }, undefined, (run) => {
    details.replaceChildren(
      el('dl', {}, [
        el('dt', { text: 'Started' }),
        el('dd', { text: when(run.startedAt) }),
        el('dt', { text: 'Closed' }),
        el('dd', { text: when(run.closedAt) }),
      ]),
      ...(Object.keys(run.counters || {}).length
        ? [el('h3', { text: 'Counters' }), el('pre', { text: JSON.stringify(run.counters, null, 2) })]
        : []),
      ...(run.result !== undefined && run.result !== null
        ? [el('h3', { text: 'Result' }), el('pre', { text: JSON.stringify(run.result, null, 2) })]
        : []),
    );
  });
}
