import { killGroup } from '../helpers/processes';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { smokeWorkflowId } from '../../workflows/smoke/contract';

/** kill -9 the worker process while a run waits on its durable timer; a new worker finishes the run. */
describe('durability: worker killed with SIGKILL mid-run', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform({ workers: 'later' });
  });
  afterAll(() => platform?.stop());

  it('completes the run exactly once after the worker is killed while the run sleeps', async () => {
    const { client, database, queues } = platform;
    const first = await platform.spawnWorkerProcess();
    const workflowId = smokeWorkflowId(`durable-${Date.now()}`);
    const handle = await client.workflow.start('smokeWorkflow', {
      workflowId,
      taskQueue: queues.main,
      args: [{ name: 'survivor', delayMs: 4000, userId: null }],
    });

    // The run has reached its timer (its job_runs row says so) when we pull the plug.
    const deadline = Date.now() + 30_000;
    let stage: string | undefined;
    while (Date.now() < deadline) {
      stage = (await database.db.selectFrom('job_runs').select('stage').where('id', '=', workflowId).executeTakeFirst())?.stage;
      if (stage === 'waiting') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(stage).toBe('waiting');
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    await platform.spawnWorkerProcess();
    const result = await handle.result();
    expect(result.greeting).toMatch(/^hello, survivor/);

    const rows = await database.db.selectFrom('job_runs').selectAll().where('id', '=', workflowId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'completed', progress: 100 });
    const history = await handle.fetchHistory();
    const completions = history.events?.filter((e) => e.workflowExecutionCompletedEventAttributes) ?? [];
    expect(completions).toHaveLength(1);
  });
});
