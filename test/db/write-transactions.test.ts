import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Automation, AutomationState, ChangedEntity, Datasource, DatasourceKind, EtlStep, Run, RunStatus, RunTrigger } from '../../core/db/entities/index.js';
import { openOrm, sqliteDatabase, type Orm } from '../../core/db/orm.js';
import { readChangeLogState, readChangedIds } from '../../core/db/repositories/lineage.repository.js';
import { writeOne } from '../../core/db/transaction.js';
import { RunService } from '../../jobs/runs/run.service.js';
import { createTestDatabase } from '../helpers/postgres.js';

/**
 * Write transactions from two connection pools on one database, as two processes send them: run
 * writes of one automation take turns (on PostgreSQL through the automation's advisory lock, the
 * change log's lock coming only at commit), writes of different automations and new objects go
 * side by side, and every write still gets a version of its own, logged, in commit order.
 */
const backends: [string, () => Promise<{ orms: [Orm, Orm]; close(): Promise<void> }>][] = [
  [
    'SQLite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tributary-writes-'));
      const database = sqliteDatabase(join(dir, 'tributary.db'));
      const first = await openOrm({ database });
      const second = await openOrm({ database });
      return { orms: [first, second], close: async () => (await first.close(), await second.close(), rmSync(dir, { recursive: true, force: true })) };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const db = await createTestDatabase('tributary_writes');
      const database = { dialect: 'postgresql' as const, url: db.url };
      const first = await openOrm({ database });
      const second = await openOrm({ database });
      return { orms: [first, second], close: async () => (await first.close(), await second.close(), await db.drop()) };
    },
  ],
];

for (const [name, open] of backends) {
  describe(`write transactions from two processes on ${name}`, () => {
    let orms: [Orm, Orm];
    let close: () => Promise<void>;
    beforeAll(async () => ({ orms, close } = await open()), 60_000);
    afterAll(async () => close?.());

    const em = (i: number): EntityManager => orms[i % 2]!.em.fork() as EntityManager;
    const runs = (i: number) => new RunService(em(i));

    async function automation(label: string): Promise<Automation> {
      const e = em(0);
      const step = e.create(EtlStep, { name: label, transform: {}, state: AutomationState.ACTIVE } as never);
      await e.flush();
      return step;
    }

    it('folds requests for one automation that come at once into one queued run', async () => {
      const step = await automation('folded');
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => runs(i).enqueue({ automationId: step.id, trigger: RunTrigger.MANUAL })));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const queued = await em(0).find(Run, { automation: step.id });
      expect(queued).toHaveLength(1);
      expect(queued[0]!.coalesced).toBe(11);
      expect((await em(1).findOneOrFail(Automation, { id: step.id })).lastRunStatus).toBe(RunStatus.QUEUED);
    });

    it('lets one of many claims at once of one automation\'s runs win, and queues them in order', async () => {
      const step = await automation('claimed');
      const queued = [];
      for (let i = 0; i < 6; i++) queued.push((await runs(i).enqueue({ automationId: step.id, trigger: RunTrigger.CHAIN })).run);
      const times = queued.map((r) => r.queuedAt.getTime());
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(new Set(times).size).toBe(6);
      const claims = await Promise.all(queued.map((r, i) => runs(i).claim(r.id, `worker-${i}`)));
      expect(claims.filter((c) => c !== null)).toHaveLength(1);
      expect(await em(0).count(Run, { automation: step.id, status: RunStatus.RUNNING })).toBe(1);
      expect((await em(1).findOneOrFail(Automation, { id: step.id })).lastRunStatus).toBe(RunStatus.QUEUED); // the latest queued run waits
    });

    it('gives writes that go side by side a version each, all logged, none lost', async () => {
      const steps = await Promise.all(Array.from({ length: 6 }, (_, i) => automation(`side ${i}`)));
      const before = (await readChangeLogState(em(0))).head;
      const created: string[] = [];
      await Promise.all([
        ...steps.map((s, i) => runs(i).enqueue({ automationId: s.id, trigger: RunTrigger.MANUAL })),
        ...Array.from({ length: 6 }, (_, i) =>
          writeOne(
            em(i),
            ChangedEntity.DATASOURCE,
            'a datasource',
            async (tx) => {
              const ds = tx.create(Datasource, { name: `side ds ${i}`, kind: DatasourceKind.STORAGE, tags: [] } as never);
              created.push(ds.id);
              return ds;
            },
            { graphFree: true },
          ),
        ),
      ]);
      const after = (await readChangeLogState(em(1))).head;
      const changed = await readChangedIds(em(1), before, after);
      expect(changed.datasourceIds.sort()).toEqual([...created].sort());
      expect(changed.runStatusIds.sort()).toEqual(steps.map((s) => s.id).sort());
      // One version per write (a write that logged nothing, such as a lost claim, leaves a gap).
      const versions = (await em(0).execute(`select version, count(*) as n from lineage_change where version > ? group by version`, [before])) as { version: number; n: number }[];
      expect(versions).toHaveLength(12);
      expect(versions.every((v) => Number(v.n) === 1 && Number(v.version) <= after)).toBe(true);
    });

    it('answers CONFLICT, writing nothing, when a new object refers to one deleted meanwhile', async () => {
      const e = em(0);
      const left = e.create(Datasource, { name: 'gone left', kind: DatasourceKind.STORAGE, tags: [] } as never);
      await e.flush();
      await em(0).nativeDelete(Datasource, { id: left.id });
      const attempt = writeOne(
        em(1),
        ChangedEntity.DATASOURCE,
        'a datasource',
        async (tx) => tx.create(Datasource, { name: 'dangling join', kind: DatasourceKind.JOIN, tags: [], joinLeft: left.id, joinRight: left.id, joinLeftKey: 'id', joinRightKey: 'id', joinType: 'INNER' } as never),
        { graphFree: true },
      );
      await expect(attempt).rejects.toMatchObject({ code: 'CONFLICT', message: 'a datasource refers to an object deleted meanwhile' });
      expect(await em(0).count(Datasource, { name: 'dangling join' })).toBe(0);
    });
  });
}
