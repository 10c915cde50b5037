import { readdirSync } from 'node:fs';
import { REPLAY_HISTORY_DIR } from '../helpers/record-histories';
import { spawnTs } from '../helpers/processes';

/**
 * Histories recorded from real runs (`RECORD_REPLAY_HISTORIES=1 npx jest test/integration`) are
 * replayed against the current workflow code: a change that is not deterministic for running
 * workflows fails here (guard such changes with patched(), then record again).
 */
describe('recorded workflow histories replay against the current code', () => {
  const files = readdirSync(REPLAY_HISTORY_DIR).filter((f) => f.endsWith('.json'));

  it('replays every recorded history without non-determinism', async () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    const replay = spawnTs('scripts/replay-histories.ts', { LOG_LEVEL: 'error' });
    const code = await replay.exited;
    expect(replay.output()).toContain(`replayed ${files.length} histories`);
    for (const file of files) expect(replay.output()).toContain(`replayed ${file}`);
    expect(code).toBe(0);
  });
});
