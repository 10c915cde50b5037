import { randomUUID } from 'node:crypto';
import { fillPromptTemplate, getActivePrompt, listContentTypes } from '../../db/repositories/content';
import { applyCreditTransaction, creditHistory, getCreditBalance, InsufficientCreditsError } from '../../db/repositories/credits';
import { getPlanBySlug, getPlanForUser, getPlanLimits, listPlans, tierWithGrants } from '../../db/repositories/plans';
import { createUser } from '../../db/repositories/users';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

describe('data repositories', () => {
  let database: TestDatabase;
  const newUser = async (plan = 'free') => (await createUser(database.db, { email: `repo-${randomUUID()}@example.test`, plan })).id;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  describe('credits ledger', () => {
    it('records each entry with balance_after and keeps the balance row in step', async () => {
      const userId = await newUser();
      await applyCreditTransaction(database.db, { userId, amount: 100, type: 'purchase', idempotencyKey: `topup:${userId}` });
      const spent = await applyCreditTransaction(database.db, { userId, amount: -30, type: 'usage', referenceId: 'run-1' });
      expect(spent).toMatchObject({
        balance: 70,
        applied: true,
        transaction: { amount: -30, balance_after: 70, transaction_type: 'usage' },
      });
      await applyCreditTransaction(database.db, { userId, amount: 10, type: 'refund', referenceId: 'run-1' });

      expect((await getCreditBalance(database.db, userId)).balance).toBe(80);
      expect((await creditHistory(database.db, userId, 50)).map((t) => t.balance_after).sort((a, b) => a - b)).toEqual([70, 80, 100]);
      const totals = await database.db.selectFrom('user_credits').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow();
      expect(totals).toMatchObject({ balance: 80, total_purchased: 100, total_used: 20 });
    });

    it('rejects an overdraft with InsufficientCreditsError and writes nothing', async () => {
      const userId = await newUser();
      await applyCreditTransaction(database.db, { userId, amount: 5, type: 'bonus' });
      const attempt = applyCreditTransaction(database.db, { userId, amount: -6, type: 'usage' });
      await expect(attempt).rejects.toBeInstanceOf(InsufficientCreditsError);
      await expect(attempt).rejects.toMatchObject({ type: 'InsufficientCredits', balance: 5, requested: 6 });
      expect((await getCreditBalance(database.db, userId)).balance).toBe(5);
      expect(await creditHistory(database.db, userId, 50)).toHaveLength(1);
    });

    it('applies an idempotency key once, also when retried concurrently', async () => {
      const userId = await newUser();
      const grant = { userId, amount: 300, type: 'subscription_grant' as const, idempotencyKey: `subscription_grant:in_${userId}` };
      const results = await Promise.all(Array.from({ length: 5 }, () => applyCreditTransaction(database.db, grant)));
      expect(results.filter((r) => r.applied)).toHaveLength(1);
      expect(new Set(results.map((r) => r.transaction.id)).size).toBe(1);
      expect((await getCreditBalance(database.db, userId)).balance).toBe(300);
    });

    it('never overdraws under concurrent debits', async () => {
      const userId = await newUser();
      await applyCreditTransaction(database.db, { userId, amount: 50, type: 'purchase' });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, () => applyCreditTransaction(database.db, { userId, amount: -10, type: 'reservation' })),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(5);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(InsufficientCreditsError);
      expect((await getCreditBalance(database.db, userId)).balance).toBe(0);
    });

    it("runs inside the caller's transaction: a rollback undoes the entry", async () => {
      const userId = await newUser();
      await database.db
        .transaction()
        .execute(async (tx) => {
          await applyCreditTransaction(tx, { userId, amount: 40, type: 'purchase' });
          throw new Error('caller fails after crediting');
        })
        .catch(() => undefined);
      expect((await getCreditBalance(database.db, userId)).balance).toBe(0);
      expect(await creditHistory(database.db, userId, 50)).toHaveLength(0);
    });
  });

  describe('plans', () => {
    it('lists the five plans cheapest first with their features', async () => {
      const plans = await listPlans(database.db);
      expect(plans.map((p) => p.slug)).toEqual(['free', 'basic', 'premium', 'creator', 'enterprise']);
      expect((await getPlanBySlug(database.db, 'enterprise'))!.features).toMatchObject({
        videoLimit: null,
        postsPerMonth: null,
        priorityProcessing: true,
      });
    });

    it("returns the user's tier with its features, and undefined for an unknown user", async () => {
      const plan = await getPlanForUser(database.db, await newUser('basic'));
      expect(plan).toMatchObject({
        slug: 'basic',
        subscribedSlug: 'basic',
        adminGrants: [],
        features: { videoLimit: 10, priorityProcessing: false },
      });
      expect(plan!.features.allowedContentTypes).toEqual(expect.arrayContaining(['summary', 'blog_post']));
      expect(plan!.features.allowedContentTypes).not.toContain('slide_deck');
      expect(await getPlanForUser(database.db, randomUUID())).toBeUndefined();
    });

    it('applies active admin grants (tier and video limit) and ignores expired or revoked ones', async () => {
      const userId = await newUser('free');
      const grant = (values: Record<string, unknown>) =>
        database.db
          .insertInto('admin_subscription_grants')
          .values({ user_id: userId, reason: 'test', ...values } as never)
          .execute();
      await grant({ grant_type: 'full_access', tier_override: 'creator', expires_at: new Date(Date.now() - 1000) });
      await grant({ grant_type: 'full_access', tier_override: 'enterprise', is_active: false });
      expect((await getPlanForUser(database.db, userId))!.slug).toBe('free');

      await grant({ grant_type: 'full_access', tier_override: 'premium', expires_at: new Date(Date.now() + 86_400_000) });
      await grant({ grant_type: 'video_limit_override', video_limit_override: 75 });
      const plan = await getPlanForUser(database.db, userId);
      expect(plan).toMatchObject({ slug: 'premium', subscribedSlug: 'free', features: { videoLimit: 75, priorityProcessing: true } });
      expect(plan!.adminGrants.map((g) => g.grantType).sort()).toEqual(['full_access', 'video_limit_override']);

      await grant({ grant_type: 'unlimited_videos' });
      expect((await getPlanForUser(database.db, userId))!.features.videoLimit).toBeNull();
    });
    it('derives the API limits from the same resolver: an admin grant raises them like the plan', async () => {
      const userId = await newUser('free');
      expect(await getPlanLimits(database.db, userId)).toEqual({
        plan: 'free',
        apiRateLimitPerMinute: 60,
        maxConcurrentJobs: 2,
        priorityProcessing: false,
      });
      await database.db
        .insertInto('admin_subscription_grants')
        .values({ user_id: userId, grant_type: 'full_access', tier_override: 'premium', reason: 'test' })
        .execute();
      expect(await getPlanLimits(database.db, userId)).toMatchObject({ plan: 'premium', priorityProcessing: true, maxConcurrentJobs: 5 });
      expect(await tierWithGrants(database.db, userId, 'basic')).toBe('premium');
      expect(await tierWithGrants(database.db, userId, 'creator')).toBe('creator');
    });
  });

  describe('content types and prompts', () => {
    it('lists the 17 AmplifyContent types in display order', async () => {
      const types = await listContentTypes(database.db);
      expect(types).toHaveLength(17);
      expect(types[0]).toMatchObject({ key: 'transcript', requires_ai: false });
    });

    it('returns the live prompt with a numeric temperature, and none for the transcript', async () => {
      const prompt = await getActivePrompt(database.db, 'chapters');
      expect(prompt).toMatchObject({ contentTypeKey: 'chapters', provider: 'anthropic', version: 1, temperature: 0.2, maxTokens: 1024 });
      expect(prompt!.userPromptTemplate).toContain('{{transcript}}');
      expect(await getActivePrompt(database.db, 'transcript')).toBeUndefined();
    });

    it('fills a template literally, dropping the instructions line when there are none', async () => {
      const { userPromptTemplate } = (await getActivePrompt(database.db, 'summary'))!;
      const filled = fillPromptTemplate(userPromptTemplate, {
        title: 'How {{channel}} works',
        channel: 'Ada',
        transcript: 'Hello $& world',
      });
      expect(filled).toContain('Video title: How {{channel}} works');
      expect(filled).toContain('<transcript>\nHello $& world\n</transcript>\n\nTask:');
      expect(filled).not.toMatch(/\{\{(transcript|instructions|title)\}\}/);
      const regenerated = fillPromptTemplate(userPromptTemplate, {
        title: 't',
        channel: 'c',
        transcript: 'x',
        instructions: 'Shorter, please.',
      });
      expect(regenerated).toContain('Additional instructions from the creator: Shorter, please.');
    });

    it('appends the transcript and instructions to a template without their slots, and reads spaced placeholders', async () => {
      const filled = fillPromptTemplate('Title: {{ title }}\nWrite a summary.', {
        title: 'T',
        channel: 'C',
        transcript: 'words',
        instructions: 'Be brief.',
      });
      expect(filled).toBe(
        'Title: T\nWrite a summary.\n\n<transcript>\nwords\n</transcript>\n\nAdditional instructions from the creator: Be brief.',
      );
    });
  });
});
