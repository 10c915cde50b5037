import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMediaToolkit } from '../../lib/media';
import { parseBenchCpuSeconds } from '../../lib/media/run-ffmpeg';
import { loadConfig } from '../../lib/config';
import { createWorkerMetrics } from '../../lib/metrics';
import { workerProcessMetrics } from '../../platform/metrics';
import { providerCall } from '../../providers/call';
import { ProviderHttpError } from '../../providers/errors';
import { ProviderLimiter } from '../../providers/rate-limit';

/** The worker metrics recorded outside the interceptors: provider calls (providers/call.ts) and ffmpeg CPU (lib/media). */
describe('worker metrics from providers and media', () => {
  it('times provider calls by outcome and counts failures by class, 429s apart', async () => {
    const metrics = createWorkerMetrics();
    const call = providerCall(new ProviderLimiter('x', { maxConcurrent: 2 }), metrics);
    await call(async () => 'ok');
    const refused = (status: number) => new ProviderHttpError(status, new Headers(), {}, `HTTP ${status}`);
    await expect(call(() => Promise.reject(refused(429)))).rejects.toMatchObject({ type: 'RateLimited' });
    await expect(call(() => Promise.reject(refused(503)))).rejects.toMatchObject({ type: 'ProviderUnavailable' });

    const text = await metrics.registry.metrics();
    expect(text).toContain('provider_call_duration_seconds_count{provider="x",outcome="ok"} 1');
    expect(text).toContain('provider_call_duration_seconds_count{provider="x",outcome="RateLimited"} 1');
    expect(text).toContain('provider_call_errors_total{provider="x",failure_type="RateLimited"} 1');
    expect(text).toContain('provider_call_errors_total{provider="x",failure_type="ProviderUnavailable"} 1');
    expect(text).toContain('provider_rate_limited_total{provider="x"} 1');
  });

  it('counts AI tokens and cost by model', async () => {
    const metrics = createWorkerMetrics();
    metrics.aiUsage('anthropic', 'claude-sonnet-4-6', { inputTokens: 1200, outputTokens: 300, costUsd: 0.0081 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('ai_tokens_total{provider="anthropic",model="claude-sonnet-4-6",kind="input"} 1200');
    expect(text).toContain('ai_tokens_total{provider="anthropic",model="claude-sonnet-4-6",kind="output"} 300');
    expect(text).toContain('ai_cost_usd_total{provider="anthropic",model="claude-sonnet-4-6"} 0.0081');
  });

  it("adds each ffmpeg process's own CPU time (-benchmark) by operation", async () => {
    expect(parseBenchCpuSeconds('bench: utime=1.250s stime=0.125s rtime=2.000s')).toBeCloseTo(1.375);
    expect(parseBenchCpuSeconds('frame=  10 fps=0.0 q=-0.0 size=N/A time=00:00:01.00')).toBeUndefined();

    const dir = mkdtempSync(join(tmpdir(), 'ffmpeg-cpu-'));
    try {
      const metrics = createWorkerMetrics();
      const toolkit = createMediaToolkit({ tempRoot: dir, metrics });
      await toolkit.composeThumbnail({
        output: join(dir, 'thumb.png'),
        aspectRatio: '16:9',
        background: { kind: 'color', color: '#1e3a8a' },
      });
      const text = await metrics.registry.metrics();
      const cpu = /ffmpeg_cpu_seconds_total\{operation="write_image"\} ([\d.e-]+)/.exec(text)?.[1];
      expect(cpu).toBeDefined();
      expect(Number(cpu)).toBeGreaterThanOrEqual(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives npm run start:cluster's worker processes their own metrics ports, or none when metrics are off", () => {
    const on = loadConfig({ METRICS_PORT: '9464', TEMPORAL_METRICS_PORT: '9465' });
    expect(workerProcessMetrics(on, 1)).toEqual({
      env: { METRICS_PORT: '9468', TEMPORAL_METRICS_PORT: '9469' },
      urls: { platform: 'http://127.0.0.1:9468/metrics', temporalSdk: 'http://127.0.0.1:9469/metrics' },
    });
    expect(workerProcessMetrics(loadConfig({ METRICS_PORT: '' }), 0)).toEqual({
      env: { METRICS_PORT: '', TEMPORAL_METRICS_PORT: '' },
      urls: {},
    });
  });
});
