import { noteDeleted } from '../../core/audit/scope.js';
import { raw, ref, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import {
  Automation,
  AutomationVersion,
  ChangedEntity,
  AfterImport,
  AutomationIo,
  AutomationKind,
  AutomationState,
  ChainStep,
  Connection,
  ConnectionType,
  ErrorPolicy,
  ChainTask,
  DatabaseIngestion,
  ExternalJob,
  Datasource,
  DatasourceKind,
  EtlStep,
  IoDirection,
  Script,
  SftpImport,
  WriteMode,
  Role,
  Run,
  RunStatus,
} from '../../core/db/entities/index.js';
import { AutomationInUseError, BadUserInputError, ConflictError, ForbiddenError, NotFoundError, type DependentInfo } from '../../core/errors.js';
import type { Page } from '../../core/paging.js';
import type {
  CommonAutomationInput,
  CreateChainTaskInput,
  CreateDatabaseIngestionInput,
  CreateEtlStepInput,
  CreateScriptInput,
  CreateSftpImportInput,
  ScheduleInput,
  UpdateChainTaskInput,
  UpdateDatabaseIngestionInput,
  UpdateEtlStepInput,
  UpdateScriptInput,
  UpdateSftpImportInput,
} from './inputs.js';
import { checkTransform, type SqlChecker } from '../../jobs/transform/sql-check.js';
import { isDatasource, type Graph, type GraphNode } from '../lineage/graph.js';
import { automationDependents } from '../lineage/impact.js';
import type { LineageStore } from '../lineage/store.js';
import { AutomationRepository } from '../../core/db/repositories/automation.repository.js';
import { pageByName, type PageArgs } from './paging.js';
import { Revisions } from './versions/revisions.js';
import { applyDefinition } from './versions/apply.js';
import { snapshotDefinition, type Definition } from '../../core/versions/definition.js';
import { pendingTriggers } from './versions/version.service.js';
import { DEFAULT_TIMEZONE, checkCron, checkTimezone } from './schedule.js';
import { indexScriptTokens } from './script-tokens.js';
import { attachSets, checkReferences } from './parameter-sets/attach.js';
import { ParameterValues } from '../../core/parameters/values.js';
import { mentionsParameters, referencesIn } from '../../core/parameters/references.js';
import type { SecretBox } from '../../core/secrets.js';
import { connectionUses, createConnection, freeConnectionName, loadConnection, sealSecret, selectConnection } from './connections/connection.service.js';
import { applyDatabaseSettings } from './ingestions/database-settings.js';
import { applyConnectionSettings, givesConnectionSettings, type Seal } from './connections/settings.js';
import { assertOwnTransaction, writeOne } from '../../core/db/transaction.js';
import { LIMITS, checkIdList, checkJsonObject, checkName, checkRequiredText, checkText, notNull } from '../../core/validation.js';

export interface AutomationListArgs extends PageArgs {
  kind?: AutomationKind | null;
  state?: AutomationState | null;
  /** Keep only automations whose `effectivelyScheduled` is this (as the lineage graph computes it). */
  scheduled?: boolean | null;
  /** Keep only automations whose latest run has this status. */
  lastRunStatus?: RunStatus | null;
}

type AutomationClass<T extends Automation> = new () => T;

export const KIND_CLASS: Record<AutomationKind, AutomationClass<Automation>> = {
  [AutomationKind.ETL_STEP]: EtlStep,
  [AutomationKind.SFTP_IMPORT]: SftpImport,
  [AutomationKind.SCRIPT]: Script,
  [AutomationKind.CHAIN_TASK]: ChainTask,
  [AutomationKind.DATABASE_TABLE]: DatabaseIngestion,
  [AutomationKind.EXTERNAL_JOB]: ExternalJob,
};

const DATABASE_CONNECTIONS = [ConnectionType.POSTGRES, ConnectionType.MYSQL];

/** Automation rules: per-kind validation, declared inputs/outputs, chain cycles, schedules, state, deletion. */
export class AutomationService {
  constructor(
    private readonly em: EntityManager,
    private readonly secrets: SecretBox,
    private readonly lineage: LineageStore,
    /** Told after each committed change, so the job store follows (schedules, held runs). */
    private readonly onChanged?: (automationId: string) => Promise<void>,
    /** The warehouse (its dialect and its own SQL check): an SQL transform is checked in it when saved. */
    private readonly warehouse: SqlChecker = { dialect: 'sqlite' },
    /** Who makes the changes: the author of the versions they start. */
    private readonly actorId: string | null = null,
  ) {}

  async findById(id: string): Promise<Automation | null> {
    return this.em.findOne(Automation, { id });
  }

  async findByName(name: string): Promise<Automation | null> {
    return this.em.findOne(Automation, { name });
  }

  async list(args: AutomationListArgs): Promise<Page<Automation>> {
    const filter: FilterQuery<Automation> = {};
    if (args.kind) filter.kind = args.kind;
    if (args.state) filter.state = args.state;
    if (args.lastRunStatus) filter.lastRunStatus = args.lastRunStatus;
    if (args.scheduled === null || args.scheduled === undefined) return pageByName(this.em, Automation, filter, args);

    // The graph's `scheduled` flag is what `effectivelyScheduled` answers; its ids travel as one JSON value, whatever their number.
    const scheduledIds = effectivelyScheduledIds(await this.lineage.current(this.em));
    const automations = new AutomationRepository(this.em);
    return pageByName(this.em, Automation, () => ({ $and: [filter, automations.idAmong(scheduledIds, !args.scheduled)] }) as FilterQuery<Automation>, args);
  }

  // --- ETL steps -------------------------------------------------------------------------

  createEtlStep(input: CreateEtlStepInput): Promise<EtlStep> {
    return this.writeNew(async (em) => {
      const step = await this.createCommon(em, EtlStep, AutomationKind.ETL_STEP, input);
      step.transform = checkJsonObject(input.transform ?? {}, 'transform');
      await this.setEtlEnds(em, step, input.inputId, input.outputId);
      await checkEtlTransform(em, step, this.warehouse);
      await this.applyErrorPolicy(em, step, input);
      return step;
    });
  }

  updateEtlStep(id: string, input: UpdateEtlStepInput): Promise<EtlStep> {
    return this.revise(id, EtlStep, AutomationKind.ETL_STEP, async (em, step) => {
      await this.updateCommon(em, step, input);
      if (input.transform !== undefined) step.transform = checkJsonObject(notNull(input.transform, 'transform'), 'transform');
      const inputId = notNull(input.inputId, 'inputId');
      const outputId = notNull(input.outputId, 'outputId');
      if (inputId !== undefined || outputId !== undefined) {
        const current = await this.declaredIds(em, step.id);
        await this.setEtlEnds(em, step, inputId ?? current.inputs[0]!, outputId ?? current.outputs[0]!);
      }
      await checkEtlTransform(em, step, this.warehouse);
      await this.applyErrorPolicy(em, step, input);
    });
  }

  private async setEtlEnds(em: EntityManager, step: EtlStep, inputId: string, outputId: string): Promise<void> {
    if (inputId === outputId) throw new BadUserInputError('outputId', 'an ETL step must write to a different datasource than it reads');
    const [input] = await this.datasources(em, [inputId], 'inputId');
    const [output] = await this.writableDatasources(em, [outputId], 'outputId');
    await this.setIo(em, step, [input!], [output!]);
  }

  // --- SFTP imports ----------------------------------------------------------------------

  createSftpImport(input: CreateSftpImportInput): Promise<SftpImport> {
    return this.writeNew(async (em) => {
      const sftp = await this.createCommon(em, SftpImport, AutomationKind.SFTP_IMPORT, input);
      await this.useSftpConnection(em, sftp, input);
      applySftpSettings(sftp, input);
      const [output] = await this.writableDatasources(em, [input.outputId], 'outputId');
      await this.setIo(em, sftp, [], [output!]);
      await this.applyErrorPolicy(em, sftp, input);
      return sftp;
    });
  }

  updateSftpImport(id: string, input: UpdateSftpImportInput): Promise<SftpImport> {
    return this.revise(id, SftpImport, AutomationKind.SFTP_IMPORT, async (em, sftp) => {
      await this.updateCommon(em, sftp, input);
      await this.useSftpConnection(em, sftp, input);
      applySftpSettings(sftp, input);
      const outputId = notNull(input.outputId, 'outputId');
      if (outputId !== undefined) {
        const [output] = await this.writableDatasources(em, [outputId], 'outputId');
        await this.setIo(em, sftp, [], [output!]);
      }
      await this.applyErrorPolicy(em, sftp, input);
    });
  }

  /**
   * The connection an SFTP import logs in with: the one `connectionId` selects, or one made from
   * connection settings given inline (the API's first form: a connection named after the import).
   * Inline settings on an update change the import's own connection, never one shared with others.
   */
  private async useSftpConnection(em: EntityManager, sftp: SftpImport, input: UpdateSftpImportInput): Promise<void> {
    const inline = givesConnectionSettings(input);
    const seal: Seal = (value, field) => sealSecret(this.secrets, value, field);
    if (input.connectionId !== undefined) {
      if (input.connectionId === null) throw new BadUserInputError('connectionId', 'an SFTP import needs a connection');
      if (inline) throw new BadUserInputError('connectionId', 'give connectionId or the connection settings (host, port, username, password, privateKey), not both');
      sftp.connection = ref(await selectConnection(em, input.connectionId, [ConnectionType.SFTP]));
    } else if (!sftp.connection) {
      if (!inline) throw new BadUserInputError('connectionId', 'an SFTP import needs a connection: connectionId, or host, username and a password or private key');
      const connection = await createConnection(em, { ...input, name: await freeConnectionName(em, sftp.name), type: ConnectionType.SFTP, description: `Made for the SFTP import ${JSON.stringify(sftp.name)}` }, seal);
      connection.ownerAutomationId = sftp.id;
      sftp.connection = ref(connection);
    } else if (inline) {
      const connection = await loadConnection(em, sftp.connection.id, 'connectionId');
      // Only the connection made for this import from inline settings: a stored one is an admin's to change.
      if (connection.ownerAutomationId !== sftp.id) {
        throw new BadUserInputError('host', `the import logs in with the stored connection ${JSON.stringify(connection.name)}: an admin changes it on the Connections page, or select another with connectionId`);
      }
      const others = (await connectionUses(em, connection.id)).filter((u) => u.id !== sftp.id);
      if (others.length > 0) {
        throw new BadUserInputError('host', `the import logs in with connection ${JSON.stringify(connection.name)}, which ${others.map((o) => o.name).join(', ')} use too: change the connection itself (an admin), or select another with connectionId`);
      }
      applyConnectionSettings(connection, input, seal);
      sftp.secretsCleared = connection.secretsCleared === true;
    }
    // A stored secret is bound to the host as written; with parameters the host can change without
    // an edit, so the server must prove who it is: only the pinned key's holder gets the secret.
    const host = (await em.findOne(Connection, { id: sftp.connection!.id }, { fields: ['host'] }))?.host ?? '';
    const fingerprint = input.hostKeyFingerprint !== undefined ? input.hostKeyFingerprint : sftp.hostKeyFingerprint;
    if (referencesIn(host).length > 0) {
      if (!fingerprint?.trim()) throw new BadUserInputError('hostKeyFingerprint', 'a connection host with parameters needs a pinned hostKeyFingerprint, so the stored password or key only ever reaches that server');
      (await ParameterValues.attached(em, sftp.id)).resolve(host, 'host'); // its sets must resolve it, as at run time
    }
  }

  // --- Database ingestions ---------------------------------------------------------------

  createDatabaseIngestion(input: CreateDatabaseIngestionInput): Promise<DatabaseIngestion> {
    return this.writeNew(async (em) => {
      const ingestion = await this.createCommon(em, DatabaseIngestion, AutomationKind.DATABASE_TABLE, { ...input, writeMode: input.writeMode ?? (input.cursorColumn ? WriteMode.APPEND : undefined) });
      ingestion.connection = ref(await selectConnection(em, input.connectionId, DATABASE_CONNECTIONS));
      applyDatabaseSettings(ingestion, input);
      const [output] = await this.writableDatasources(em, [input.outputId], 'outputId');
      await this.setIo(em, ingestion, [], [output!]);
      await this.applyErrorPolicy(em, ingestion, input);
      return ingestion;
    });
  }

  updateDatabaseIngestion(id: string, input: UpdateDatabaseIngestionInput): Promise<DatabaseIngestion> {
    return this.revise(id, DatabaseIngestion, AutomationKind.DATABASE_TABLE, async (em, ingestion) => {
      await this.updateCommon(em, ingestion, input);
      const connectionId = notNull(input.connectionId, 'connectionId');
      if (connectionId !== undefined) ingestion.connection = ref(await selectConnection(em, connectionId, DATABASE_CONNECTIONS));
      applyDatabaseSettings(ingestion, input);
      const outputId = notNull(input.outputId, 'outputId');
      if (outputId !== undefined) {
        const [output] = await this.writableDatasources(em, [outputId], 'outputId');
        await this.setIo(em, ingestion, [], [output!]);
      }
      await this.applyErrorPolicy(em, ingestion, input);
    });
  }

  // --- Scripts ---------------------------------------------------------------------------

  createScript(input: CreateScriptInput): Promise<Script> {
    return this.writeNew(async (em) => {
      const script = await this.createCommon(em, Script, AutomationKind.SCRIPT, input);
      script.language = input.language;
      script.code = checkCode(input.code);
      script.variables = checkVariables(input.variables);
      applyScriptLimits(script, input);
      const inputs = await this.datasources(em, checkIdList(input.inputIds, 'inputIds'), 'inputIds');
      const outputs = await this.writableDatasources(em, checkIdList(input.outputIds, 'outputIds'), 'outputIds');
      await this.setIo(em, script, inputs, outputs);
      await indexScriptTokens(em, script);
      await this.applyErrorPolicy(em, script, input);
      return script;
    });
  }

  updateScript(id: string, input: UpdateScriptInput): Promise<Script> {
    return this.revise(id, Script, AutomationKind.SCRIPT, async (em, script) => {
      await this.updateCommon(em, script, input);
      const language = notNull(input.language, 'language');
      if (language !== undefined) script.language = language;
      if (input.variables !== undefined) script.variables = checkVariables(input.variables);
      applyScriptLimits(script, input);
      if (input.inputIds !== undefined || input.outputIds !== undefined) {
        const current = await this.declaredIds(em, script.id);
        const inputs = await this.datasources(em, checkIdList(input.inputIds === undefined ? current.inputs : input.inputIds, 'inputIds'), 'inputIds');
        const outputIds = input.outputIds === undefined ? current.outputs : input.outputIds;
        const outputs = await this.writableDatasources(em, checkIdList(outputIds, 'outputIds'), 'outputIds');
        await this.setIo(em, script, inputs, outputs);
      }
      const code = notNull(input.code, 'code');
      if (code !== undefined) {
        script.code = checkCode(code);
        await indexScriptTokens(em, script);
      }
      await this.applyErrorPolicy(em, script, input);
    });
  }

  // --- Chain tasks -----------------------------------------------------------------------

  createChainTask(input: CreateChainTaskInput): Promise<ChainTask> {
    return this.writeNew(async (em) => {
      const chain = await this.createCommon(em, ChainTask, AutomationKind.CHAIN_TASK, input);
      chain.continueOnFailure = input.continueOnFailure ?? false;
      await this.setSteps(em, chain, checkIdList(input.stepIds, 'stepIds'));
      return chain;
    });
  }

  updateChainTask(id: string, input: UpdateChainTaskInput): Promise<ChainTask> {
    return this.revise(id, ChainTask, AutomationKind.CHAIN_TASK, async (em, chain) => {
      await this.updateCommon(em, chain, input);
      const continueOnFailure = notNull(input.continueOnFailure, 'continueOnFailure');
      if (continueOnFailure !== undefined) chain.continueOnFailure = continueOnFailure;
      const stepIds = notNull(input.stepIds, 'stepIds');
      if (stepIds !== undefined) await this.setSteps(em, chain, checkIdList(stepIds, 'stepIds'));
    });
  }

  /** Replaces a chain's steps after checking they exist and that no chain would contain itself. */
  private async setSteps(em: EntityManager, chain: ChainTask, stepIds: string[]): Promise<void> {
    const found = new Map((await em.find(Automation, { id: { $in: stepIds } })).map((a) => [a.id, a]));
    stepIds.forEach((id, i) => {
      if (id === chain.id) throw new BadUserInputError(`stepIds[${i}]`, 'a chain task cannot trigger itself');
      if (!found.has(id)) throw new BadUserInputError(`stepIds[${i}]`, `automation ${JSON.stringify(id)} does not exist`);
      if (found.get(id)!.kind === AutomationKind.EXTERNAL_JOB) throw new BadUserInputError(`stepIds[${i}]`, `${JSON.stringify(found.get(id)!.name)} is an external job (known from OpenLineage events): it runs elsewhere, so no chain can trigger it`);
      if (found.get(id)!.draftOnly) throw new BadUserInputError(`stepIds[${i}]`, `${JSON.stringify(found.get(id)!.name)} has never been live: make its draft live before a chain triggers it`);
    });
    await checkNoChainCycle(em, chain, stepIds, found);
    await em.nativeDelete(ChainStep, { chain: chain.id });
    await em.flush();
    stepIds.forEach((id, position) => em.persist(em.create(ChainStep, { chain: chain.id, step: id, position })));
  }

  // --- Duplicates --------------------------------------------------------------------------

  /**
   * A new automation doing what `id` does now (its live definition; for one never live, its newest
   * version), named `name`, with no schedule and no runs: live at once, or a draft when approval
   * is required. Stored SFTP secrets are copied sealed, as they are.
   */
  duplicate(id: string, name: string, description?: string | null): Promise<Automation> {
    return this.writeNew(async (em) => {
      const source = await this.load(em, id, Automation);
      notExternal(source, 'copied: its events make it');
      const newest = source.draftOnly ? await em.findOne(AutomationVersion, { automation: id }, { orderBy: { number: 'desc' } }) : null;
      const definition = newest ? (newest.definition as Definition) : await snapshotDefinition(em, source);
      const copy = new KIND_CLASS[source.kind]();
      copy.kind = source.kind;
      copy.name = await this.checkNameFree(em, name);
      em.persist(copy);
      const described = description === undefined ? definition.description : checkText(description, 'description', LIMITS.description);
      await applyDefinition(em, copy, { ...definition, name: copy.name, description: described, schedule: null }, 'id');
      return copy;
    });
  }

  // --- Schedules, state, deletion -----------------------------------------------------------

  setSchedule(id: string, cron: string, timezone?: string | null): Promise<Automation> {
    return this.revise(id, Automation, undefined, async (_em, automation) => {
      notExternal(automation, 'scheduled here: it runs on its own platform');
      applySchedule(automation, { cron, timezone }, '');
    });
  }

  clearSchedule(id: string): Promise<Automation> {
    return this.revise(id, Automation, undefined, async (_em, automation) => {
      notExternal(automation, 'scheduled here: it runs on its own platform');
      applySchedule(automation, null, '');
    });
  }

  /** Changes the run state (pause, stop, start, deactivate). Idempotent. */
  setState(id: string, state: AutomationState): Promise<Automation> {
    return this.write(async (em) => {
      const automation = await this.load(em, id, Automation);
      automation.state = state;
      return automation;
    });
  }

  /** DEACTIVATED → ACTIVE; an automation in another state is returned as it is. */
  activate(id: string): Promise<Automation> {
    return this.write(async (em) => {
      const automation = await this.load(em, id, Automation);
      if (automation.state === AutomationState.DEACTIVATED) automation.state = AutomationState.ACTIVE;
      return automation;
    });
  }

  /** Chain tasks that trigger this automation; empty when it can be deleted. */
  async dependents(id: string): Promise<DependentInfo[]> {
    if ((await this.em.findOne(Automation, { id }, { fields: ['draftOnly'] }))?.draftOnly) return [];
    return [...automationDependents(await this.node(this.em, id, 'automationId')), ...(await pendingTriggers(this.em, id))];
  }

  /**
   * Deletes an automation no chain task (live or in a version not live yet) triggers; its
   * declarations, steps, versions and code index go with it. One that was ever live is kept with
   * its history unless `mayDeleteLive` (an admin): FORBIDDEN, decided inside the transaction.
   */
  delete(id: string, mayDeleteLive = true): Promise<string> {
    assertOwnTransaction(this.em);
    return this.write(async (em) => {
      const row = await em.findOne(Automation, { id }, { fields: ['id', 'name', 'draftOnly'] });
      if (row && !row.draftOnly && !mayDeleteLive) {
        throw new ForbiddenError(`${JSON.stringify(row.name)} has been live: only an admin deletes it, with its history (deactivateAutomation switches it off and keeps it)`, Role.ADMIN);
      }
      if (row?.draftOnly) {
        // Never live: no chain triggers it, nothing ran it, and the graph does not show it.
        await em.nativeDelete(Automation, { id });
        noteDeleted('Automation', id, row.name);
        return id;
      }
      const node = await this.node(em, id, 'id');
      const dependents = [...automationDependents(node), ...(await pendingTriggers(em, id))];
      if (dependents.length > 0) throw new AutomationInUseError(node.name, dependents);
      if ((await em.count(Run, { automation: id, status: RunStatus.RUNNING })) > 0) {
        throw new ConflictError('id', `automation ${JSON.stringify(node.name)} is running: stop it (stopAutomation) before deleting it`);
      }
      await em.nativeDelete(Automation, { id }); // FKs cascade to automation_io, chain_step and script_token
      noteDeleted('Automation', id, node.name);
      return id;
    });
  }

  private async node(em: EntityManager, id: string, field: string): Promise<GraphNode> {
    const node = (await this.lineage.current(em)).nodes.get(id);
    if (!node || isDatasource(node)) throw new NotFoundError('Automation', id, field);
    return node;
  }

  // --- shared helpers ----------------------------------------------------------------------

  /** Every automation mutation touches exactly the automation it returns (or the id it deleted). */
  private async write<T extends Automation | string>(work: (em: EntityManager) => Promise<T>, runsOf?: string): Promise<T> {
    // An edit that may go live at once takes turns with the automation's run writes (see switchLive).
    const options = runsOf ? { serializeOn: async () => runsOf } : {};
    const result = await writeOne(this.em, ChangedEntity.AUTOMATION, 'an automation', work, options);
    await this.onChanged?.(typeof result === 'string' ? result : result.id);
    return result;
  }

  /** Creates an automation (`create` writes it) and records its version 1: live, or a draft when approval is required. */
  private writeNew<T extends Automation>(create: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.write(async (em) => {
      const automation = await create(em);
      await checkReferences(em, automation);
      await new Revisions(em, this.actorId).created(automation);
      return automation;
    });
  }

  /** Edits an automation through its versions (see Revisions): live at once, or its draft when approval is required. */
  private revise<T extends Automation>(id: string, cls: AutomationClass<T> | typeof Automation, kind: AutomationKind | undefined, edit: (em: EntityManager, automation: T) => Promise<void> | void): Promise<T> {
    return this.write(async (em) => {
      const automation = await this.load<T>(em, id, cls, kind);
      await new Revisions(em, this.actorId).edit(automation, async () => {
        await edit(em, automation);
        await checkReferences(em, automation);
      });
      return automation;
    }, id);
  }

  private async load<T extends Automation>(em: EntityManager, id: string, cls: AutomationClass<T> | typeof Automation, kind?: AutomationKind): Promise<T> {
    const automation = await em.findOne(Automation, { id });
    if (!automation) throw new NotFoundError('Automation', id, 'id');
    if (kind && automation.kind !== kind) {
      throw new BadUserInputError('id', `automation ${JSON.stringify(automation.name)} is a ${automation.kind}, not a ${kind}`);
    }
    void cls;
    return automation as T;
  }

  private async createCommon<T extends Automation>(em: EntityManager, cls: AutomationClass<T>, kind: AutomationKind, input: CommonAutomationInput): Promise<T> {
    const automation = new cls();
    automation.kind = kind;
    automation.name = await this.checkNameFree(em, input.name);
    automation.description = checkText(input.description, 'description', LIMITS.description);
    if (input.schedule) applySchedule(automation, input.schedule, 'schedule.');
    applyWriteMode(automation, input);
    em.persist(automation);
    if (input.parameterSetIds?.length) await attachSets(em, automation, input.parameterSetIds, 'parameterSetIds');
    return automation;
  }

  private async updateCommon(em: EntityManager, automation: Automation, input: CommonAutomationInput): Promise<void> {
    const name = notNull(input.name, 'name');
    if (name !== undefined && name !== automation.name) automation.name = await this.checkNameFree(em, name, automation.id);
    if (input.description !== undefined) automation.description = checkText(input.description, 'description', LIMITS.description);
    if (input.schedule !== undefined) applySchedule(automation, input.schedule, 'schedule.');
    applyWriteMode(automation, input);
    if (input.parameterSetIds !== undefined) await attachSets(em, automation, input.parameterSetIds ?? [], 'parameterSetIds');
  }

  private async checkNameFree(em: EntityManager, name: string | null | undefined, exceptId?: string): Promise<string> {
    const checked = checkName(name);
    const clash = await em.findOne(Automation, { name: checked }, { fields: ['id'] });
    if (clash && clash.id !== exceptId) throw new ConflictError('name', `an automation named ${JSON.stringify(checked)} already exists`);
    return checked;
  }

  /** Loads datasources by id in the given order; an unknown id is a BAD_USER_INPUT on `field`. */
  private async datasources(em: EntityManager, ids: string[], field: string): Promise<Datasource[]> {
    if (ids.length === 0) return [];
    const found = new Map((await em.find(Datasource, { id: { $in: ids } })).map((d) => [d.id, d]));
    return ids.map((id, i) => {
      const datasource = found.get(id);
      const at = ids.length > 1 || field.endsWith('Ids') ? `${field}[${i}]` : field;
      if (!datasource) throw new BadUserInputError(at, `datasource ${JSON.stringify(id)} does not exist`);
      if (datasource.kind === DatasourceKind.EXTERNAL) {
        throw new BadUserInputError(at, `${JSON.stringify(datasource.name)} is an EXTERNAL datasource (known from OpenLineage events): Tributary holds none of its data, so nothing here reads or writes it`);
      }
      return datasource;
    });
  }

  /** Like {@link datasources}, refusing JOIN datasources, which are virtual and cannot be written. */
  private async writableDatasources(em: EntityManager, ids: string[], field: string): Promise<Datasource[]> {
    const list = await this.datasources(em, ids, field);
    list.forEach((d, i) => {
      if (d.kind === DatasourceKind.JOIN) {
        throw new BadUserInputError(field.endsWith('Ids') ? `${field}[${i}]` : field, `${JSON.stringify(d.name)} is a JOIN datasource; joins are computed from their sources and cannot be written`);
      }
    });
    return list;
  }

  /** Error policy; TO_DATASOURCE declares the error datasource (an ERRORS link, so lineage and deletion safety see it). */
  private async applyErrorPolicy(em: EntityManager, automation: Automation, input: CommonAutomationInput): Promise<void> {
    const policy = notNull(input.errorPolicy, 'errorPolicy');
    if (policy !== undefined) automation.errorPolicy = policy;
    const format = notNull(input.errorRecordFormat, 'errorRecordFormat');
    if (format !== undefined) automation.errorRecordFormat = format;
    const current = await em.findOne(AutomationIo, { automation: automation.id, direction: IoDirection.ERRORS });
    const wanted = input.errorDatasourceId !== undefined ? input.errorDatasourceId : (current?.datasource.id ?? null);
    if (automation.errorPolicy !== ErrorPolicy.TO_DATASOURCE) {
      if (input.errorDatasourceId) throw new BadUserInputError('errorDatasourceId', 'errorDatasourceId applies to the error policy TO_DATASOURCE only');
      if (current) await em.nativeDelete(AutomationIo, { id: current.id });
      return;
    }
    if (!wanted) throw new BadUserInputError('errorDatasourceId', 'the error policy TO_DATASOURCE needs errorDatasourceId: a STORAGE datasource for the rejected rows');
    const [target] = await this.writableDatasources(em, [wanted], 'errorDatasourceId');
    const declared = await this.declaredIds(em, automation.id);
    if ([...declared.inputs, ...declared.outputs].includes(target!.id)) {
      throw new BadUserInputError('errorDatasourceId', 'the error datasource must be another datasource than the automation reads or writes');
    }
    if (current?.datasource.id === target!.id) return;
    if (current) await em.nativeDelete(AutomationIo, { id: current.id });
    await em.insertMany(AutomationIo, [{ automation: automation.id, datasource: target!.id, direction: IoDirection.ERRORS, position: 0 }]);
  }

  private async declaredIds(em: EntityManager, automationId: string): Promise<{ inputs: string[]; outputs: string[] }> {
    const rows = await em.find(AutomationIo, { automation: automationId }, { orderBy: { position: 'asc' } });
    const ids = (direction: IoDirection) => rows.filter((r) => r.direction === direction).map((r) => r.datasource.id);
    return { inputs: ids(IoDirection.INPUT), outputs: ids(IoDirection.OUTPUT) };
  }

  /** Replaces the declared inputs and outputs of an automation. */
  private async setIo(em: EntityManager, automation: Automation, inputs: Datasource[], outputs: Datasource[]): Promise<void> {
    await em.nativeDelete(AutomationIo, { automation: automation.id, direction: { $in: [IoDirection.INPUT, IoDirection.OUTPUT] } });
    await em.flush();
    const rows = [
      ...inputs.map((d, position) => ({ automation: automation.id, datasource: d.id, direction: IoDirection.INPUT, position })),
      ...outputs.map((d, position) => ({ automation: automation.id, datasource: d.id, direction: IoDirection.OUTPUT, position })),
    ];
    if (rows.length > 0) await em.insertMany(AutomationIo, rows);
  }
}

/** Automations the lineage graph marks effectively scheduled: the same flag `effectivelyScheduled` answers from. */
function effectivelyScheduledIds(graph: Graph): string[] {
  const ids: string[] = [];
  for (const node of graph.nodes.values()) if (node.scheduled && !isDatasource(node)) ids.push(node.id);
  return ids;
}

/** Sets or (with null) clears the own schedule; `prefix` locates errors in the input (`schedule.`). */
export function applySchedule(automation: Automation, schedule: ScheduleInput | null, prefix: string): void {
  if (schedule === null) {
    automation.scheduleCron = null;
    automation.scheduleTimezone = null;
    return;
  }
  const timezone = checkTimezone(schedule.timezone ?? DEFAULT_TIMEZONE, `${prefix}timezone`);
  automation.scheduleCron = checkCron(schedule.cron, timezone, `${prefix}cron`);
  automation.scheduleTimezone = timezone;
}

export function checkCode(code: string): string {
  const bytes = Buffer.byteLength(code, 'utf8');
  if (bytes > LIMITS.codeBytes) throw new BadUserInputError('code', `code is ${bytes} bytes; the limit is ${LIMITS.codeBytes} (1 MB)`);
  return code;
}

/** Runtime variables: a JSON object whose optional `args` is a list and `kwargs`/`job_config` are objects. */
/** A script's timeout (1 s – 24 h) and memory cap (32 MB – 16 GB). */
export function applyScriptLimits(script: Script, input: { timeoutSeconds?: number | null; memoryMb?: number | null }): void {
  const timeout = notNull(input.timeoutSeconds, 'timeoutSeconds');
  if (timeout !== undefined) {
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 86_400) throw new BadUserInputError('timeoutSeconds', `timeoutSeconds must be from 1 to 86400, got ${timeout}`);
    script.timeoutSeconds = timeout;
  }
  const memory = notNull(input.memoryMb, 'memoryMb');
  if (memory !== undefined) {
    if (!Number.isInteger(memory) || memory < 32 || memory > 16_384) throw new BadUserInputError('memoryMb', `memoryMb must be from 32 to 16384, got ${memory}`);
    script.memoryMb = memory;
  }
}

export function checkVariables(variables: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (variables === null || variables === undefined) return null;
  const checked = checkJsonObject(variables, 'variables');
  if ('args' in checked && !Array.isArray(checked.args)) throw new BadUserInputError('variables.args', 'variables.args must be a list');
  for (const key of ['kwargs', 'job_config'] as const) {
    const value = checked[key];
    if (key in checked && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new BadUserInputError(`variables.${key}`, `variables.${key} must be a JSON object`);
    }
  }
  return checked;
}

/**
 * Validates the transform when saved, against the input's columns when they are known; an SQL
 * transform must compile and read only its input (checked by the warehouse's engine, see checkTransform).
 */
async function checkEtlTransform(em: EntityManager, step: EtlStep, warehouse: SqlChecker): Promise<void> {
  await em.flush();
  const io = await em.findOne(AutomationIo, { automation: step.id, direction: IoDirection.INPUT }, { populate: ['datasource'] });
  const columns = io?.datasource.getEntity().columns.map((c) => ({ name: c.name, type: c.type })) ?? [];
  // Checked as it will run: with the values of its parameters (an unknown one is refused here).
  const transform = mentionsParameters(step.transform) ? (await ParameterValues.attached(em, step.id)).resolveJson(step.transform, 'transform') : step.transform;
  await checkTransform(transform, columns, warehouse);
}

/** Write mode and keys: UPSERT needs 1–20 distinct key columns; other modes take none. */
export function applyWriteMode(automation: Automation, input: CommonAutomationInput): void {
  const mode = notNull(input.writeMode, 'writeMode');
  if (mode !== undefined) automation.writeMode = mode;
  if (input.writeKeys !== undefined) {
    const keys = input.writeKeys ?? [];
    if (keys.length > 20) throw new BadUserInputError('writeKeys', 'at most 20 key columns are allowed');
    keys.forEach((key, i) => checkRequiredText(key, `writeKeys[${i}]`, LIMITS.columnName));
    if (new Set(keys).size !== keys.length) throw new BadUserInputError('writeKeys', 'a key column is listed twice');
    automation.writeKeys = keys;
  }
  if (automation.writeMode === WriteMode.UPSERT && automation.writeKeys.length === 0) {
    throw new BadUserInputError('writeKeys', 'UPSERT needs the key columns that identify a row, e.g. writeKeys: ["id"]');
  }
}

/**
 * Refuses steps that (through chains of chains) already trigger `chain`. A recursive query
 * walks down from each chain step only, inside the transaction, so it sees this mutation's own writes.
 */
async function checkNoChainCycle(em: EntityManager, chain: ChainTask, stepIds: string[], steps: Map<string, Automation>): Promise<void> {
  for (const [i, start] of stepIds.entries()) {
    if (steps.get(start)?.kind !== AutomationKind.CHAIN_TASK) continue;
    if (await new AutomationRepository(em).chainReaches(start, chain.id)) {
      throw new BadUserInputError(`stepIds[${i}]`, `chain task ${JSON.stringify(steps.get(start)!.name)} already triggers ${JSON.stringify(chain.name)}; a chain cannot contain itself`);
    }
  }
}

/** Checks and applies an SFTP import's own settings (what it takes from where its connection logs in). */
export function applySftpSettings(sftp: SftpImport, input: UpdateSftpImportInput): void {
  if (input.remoteDir !== undefined) sftp.remoteDir = checkText(input.remoteDir, 'remoteDir', LIMITS.path) ?? '.';
  if (input.filePattern !== undefined) sftp.filePattern = checkText(input.filePattern, 'filePattern', LIMITS.filePattern) ?? '*';
  if (input.hostKeyFingerprint !== undefined) {
    const fingerprint = input.hostKeyFingerprint?.trim() || null;
    if (fingerprint !== null && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(fingerprint)) {
      throw new BadUserInputError('hostKeyFingerprint', 'hostKeyFingerprint must look like "SHA256:…" as `ssh-keygen -lf <key>` or `ssh-keyscan` prints it');
    }
    sftp.hostKeyFingerprint = fingerprint?.replace(/=$/, '') ?? null;
  }
  const afterImport = notNull(input.afterImport, 'afterImport');
  if (afterImport !== undefined) sftp.afterImport = afterImport;
  if (input.moveToDir !== undefined) sftp.moveToDir = checkText(input.moveToDir, 'moveToDir', LIMITS.path);
  if (sftp.afterImport === AfterImport.MOVE && !sftp.moveToDir) {
    throw new BadUserInputError('moveToDir', 'afterImport MOVE needs moveToDir: the remote directory imported files go to');
  }
}

/** External jobs come from OpenLineage events: refuses what only Tributary's own automations do. */
function notExternal(automation: Automation, what: string): void {
  if (automation.kind === AutomationKind.EXTERNAL_JOB) throw new BadUserInputError('id', `${JSON.stringify(automation.name)} is an external job (known from OpenLineage events) and cannot be ${what}`);
}
