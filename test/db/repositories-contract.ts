import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChainStep,
  ChainTask,
  Datasource,
  DatasourceKind,
  EtlStep,
  JoinType,
  Run,
  RunStatus,
  RunTrigger,
  Script,
  ScriptLanguage,
  ScriptToken,
  ScriptTokenKind,
} from '../../core/db/entities/index.js';
import { ChangeSet, beginWrite, recordChanges } from '../../core/db/change-log.js';
import { ChangedEntity } from '../../core/db/entities/index.js';
import type { Orm } from '../../core/db/orm.js';
import { AutomationRepository } from '../../core/db/repositories/automation.repository.js';
import { DatasourceRepository } from '../../core/db/repositories/datasource.repository.js';
import { readAll, readChangeLogState, readChangedIds } from '../../core/db/repositories/lineage.repository.js';
import { RunRepository } from '../../core/db/repositories/run.repository.js';

/**
 * What the metadata repositories answer, the same on every database: one suite, run on SQLite
 * and on PostgreSQL. `open` gives a migrated, empty metadata database; `close` disposes of it.
 */
export function repositoriesContract(name: string, open: () => Promise<{ orm: Orm; close(): Promise<void> }>): void {
  describe(`metadata repositories on ${name}`, () => {
    let orm: Orm;
    let close: () => Promise<void>;
    const em = (): EntityManager => orm.em.fork() as EntityManager;
    beforeAll(async () => ({ orm, close } = await open()), 60_000);
    afterAll(async () => close?.());

    async function datasource(name: string, join?: [Datasource, Datasource]): Promise<Datasource> {
      const e = em();
      const ds = e.create(Datasource, { name, kind: join ? DatasourceKind.JOIN : DatasourceKind.STORAGE, tags: ['t1', 'ü'] } as never);
      if (join) Object.assign(ds, { joinLeft: join[0].id, joinRight: join[1].id, joinLeftKey: 'id', joinRightKey: 'id', joinType: JoinType.INNER });
      await e.flush();
      return ds;
    }

    async function run(automationId: string, queuedAt: Date, status = RunStatus.QUEUED, extra: Partial<Run> = {}): Promise<Run> {
      const e = em();
      const created = e.create(Run, { automation: automationId, trigger: RunTrigger.MANUAL, status, queuedAt, ...extra } as never);
      await e.flush();
      return created;
    }

    it('walks joins of joins up from the given sources', async () => {
      const a = await datasource('a');
      const b = await datasource('b');
      const ab = await datasource('ab', [a, b]);
      const abb = await datasource('abb', [ab, b]);
      const repo = new DatasourceRepository(em());
      expect(await repo.joinsReach([abb.id], a.id)).toBe(true);
      expect(await repo.joinsReach([ab.id], abb.id)).toBe(false);
      expect(await repo.joinsReach([], a.id)).toBe(false);
      expect(await repo.joinsReach([a.id], a.id)).toBe(true);
    });

    it('walks chains of chains down, and filters by a JSON list of ids of any length', async () => {
      const e = em();
      const outer = e.create(ChainTask, { name: 'outer' } as never);
      const inner = e.create(ChainTask, { name: 'inner' } as never);
      const leaf = e.create(EtlStep, { name: 'leaf', transform: {} } as never);
      await e.flush();
      e.create(ChainStep, { chain: outer.id, step: inner.id, position: 0 } as never);
      e.create(ChainStep, { chain: inner.id, step: leaf.id, position: 0 } as never);
      await e.flush();
      const repo = new AutomationRepository(em());
      expect(await repo.chainReaches(outer.id, leaf.id)).toBe(true);
      expect(await repo.chainReaches(leaf.id, outer.id)).toBe(false);
      expect(await repo.chainReaches(inner.id, inner.id)).toBe(true);
      const among = async (ids: string[], negate: boolean) =>
        (await em().find(EtlStep, { $and: [{ name: 'leaf' }, new AutomationRepository(em()).idAmong(ids, negate)] } as never)).map((x) => x.name);
      expect(await among([leaf.id, 'not-an-id'], false)).toEqual(['leaf']);
      expect(await among([leaf.id], true)).toEqual([]);
      expect(await among([], true)).toEqual(['leaf']);
      expect(await among(Array.from({ length: 5000 }, (_, i) => `id-${i}`), false)).toEqual([]);
    });

    it('reads the lineage rows: tags as arrays, code references by id and by exact name', async () => {
      const target = await datasource('referenced "quoted"');
      const e = em();
      const script = e.create(Script, { name: 'refs', language: ScriptLanguage.PYTHON, code: '' } as never);
      await e.flush();
      e.create(ScriptToken, { script: script.id, kind: ScriptTokenKind.UUID, token: target.id } as never);
      e.create(ScriptToken, { script: script.id, kind: ScriptTokenKind.LITERAL, token: target.name } as never);
      e.create(ScriptToken, { script: script.id, kind: ScriptTokenKind.LITERAL, token: 'nothing of that name' } as never);
      await e.flush();
      const rows = await readAll(em(), { staleAfterRuns: 30 });
      expect(rows.datasources.find((d) => d.id === target.id)?.tags).toEqual(['t1', 'ü']);
      expect(rows.refs.filter((r) => r.script_id === script.id).map((r) => r.kind).sort()).toEqual([ScriptTokenKind.LITERAL, ScriptTokenKind.UUID]);
    });

    it('allocates write versions one after the other and logs what each touched', async () => {
      const before = await readChangeLogState(em());
      const versions: number[] = [];
      for (let i = 0; i < 3; i++) {
        await em().transactional(async (tx) => {
          const version = await beginWrite(tx as EntityManager);
          const changes = new ChangeSet();
          changes.add(ChangedEntity.DATASOURCE, `ds-${i}`);
          await recordChanges(tx as EntityManager, version, changes);
          versions.push(version);
        });
      }
      expect(versions).toEqual([versions[0]!, versions[0]! + 1, versions[0]! + 2]);
      const after = await readChangeLogState(em());
      expect(after.head).toBe(versions[2]);
      expect(typeof after.head).toBe('number');
      expect((await readChangedIds(em(), before.head, after.head)).datasourceIds.sort()).toEqual(['ds-0', 'ds-1', 'ds-2']);
    });

    it('keeps the run records: latest, claim, cancel, heartbeat, logs and retention', async () => {
      const e = em();
      const step = e.create(EtlStep, { name: 'runs', transform: {} } as never);
      const other = e.create(EtlStep, { name: 'runs other', transform: {} } as never);
      await e.flush();
      const t0 = new Date('2026-01-01T00:00:00.000Z');
      const first = await run(step.id, t0);
      const second = await run(step.id, new Date(t0.getTime() + 1));
      const otherRun = await run(other.id, t0);
      const repo = new RunRepository(em());
      expect((await repo.latestIds([step.id, other.id])).sort()).toEqual([second.id, otherRun.id].sort());
      expect(await repo.lastQueuedAt(step.id)).toEqual(new Date(t0.getTime() + 1));
      expect(await repo.lastQueuedAt('nobody')).toBeNull();

      // One running run per automation: the second claim waits.
      expect(await repo.claim(first.id, 'host:1:1', new Date())).toBe(step.id);
      expect(await repo.claim(second.id, 'host:2:2', new Date())).toBeNull();
      expect(await repo.claim(first.id, 'host:2:2', new Date())).toBeNull();

      await repo.refreshLastStatus(step.id);
      const [{ last_run_status }] = (await em().execute(`select last_run_status from automation where id = ?`, [step.id])) as { last_run_status: string }[];
      expect(last_run_status).toBe(RunStatus.QUEUED);

      const beat = new Date('2026-02-02T02:02:02.002Z');
      await repo.heartbeat([first.id, second.id], beat);
      expect((await em().findOneOrFail(Run, { id: first.id })).heartbeatAt).toEqual(beat);
      expect((await em().findOneOrFail(Run, { id: second.id })).heartbeatAt ?? null).toBeNull();

      expect(await repo.cancelRequested([first.id])).toEqual([]);
      expect(await repo.flagRunning(step.id)).toEqual([first.id]);
      expect(await repo.cancelRequested([first.id])).toEqual([first.id]);
      await repo.cancelQueued(step.id, 'held', new Date());
      const held = await em().findOneOrFail(Run, { id: second.id });
      expect([held.status, held.error]).toEqual([RunStatus.CANCELLED, 'held']);

      expect(await repo.countLogLines(first.id, 2)).toBe(2);
      expect(await repo.countLogLines('nobody', 2)).toBeNull();
      await repo.insertLogLines(first.id, ['one', "two 'quoted' ✓"]);
      expect(((await em().execute(`select line from run_log where run_id = ? order by id`, [first.id])) as { line: string }[]).map((r) => r.line)).toEqual(['one', "two 'quoted' ✓"]);

      // Retention: finished top-level runs before the cut, in batches; the count is a number, with whose runs they were.
      const old = await run(other.id, t0, RunStatus.SUCCESS, { finishedAt: new Date('2026-01-02T00:00:00Z') } as Partial<Run>);
      await run(other.id, t0, RunStatus.SUCCESS, { finishedAt: new Date('2026-03-01T00:00:00Z') } as Partial<Run>);
      expect(await repo.deleteFinished(new Date('2026-02-01T00:00:00Z'), 500)).toEqual({ deleted: 1, automationIds: [other.id] }); // `old`; the one held above finished just now
      expect(await em().findOne(Run, { id: old.id })).toBeNull();
      expect(await repo.deleteFinished(new Date('2026-02-01T00:00:00Z'), 500)).toEqual({ deleted: 0, automationIds: [] });
    });
  });
}
