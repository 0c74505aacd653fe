import { stat } from 'node:fs/promises';
import type { EntityManager } from '@mikro-orm/knex';
import { CronExpressionParser } from 'cron-parser';
import { Automation, AutomationKind, AutomationState, Datasource, DatasourceKind, type EtlStep } from '../../../core/db/entities/index.js';
import { DomainError } from '../../../core/errors.js';
import { ParameterValues } from '../../../core/parameters/values.js';
import { mentionsParameters, referencesIn, stringsIn } from '../../../core/parameters/references.js';
import { FileAccessError, type FileRoots } from '../../../jobs/warehouse/file-roots.js';
import { checkTransform, type SqlChecker } from '../../../jobs/transform/sql-check.js';
import { TransformError } from '../../../jobs/transform/pipeline.js';
import type { Graph, GraphNode } from '../../lineage/graph.js';
import { parameterizedSettings } from '../parameter-sets/attach.js';

/** What validation finds: saving checks what it can when an object is saved; these are what changes later, or spans objects. */
export type IssueType =
  | 'TRANSFORM_COLUMNS'
  | 'INPUT_NOT_FED'
  | 'CHAIN_STEP_INACTIVE'
  | 'SCHEDULE_NEVER_FIRES'
  | 'UNKNOWN_PARAMETER'
  | 'UNDECLARED_DATASOURCE'
  | 'JOIN_KEY_MISSING'
  | 'CONNECTION_FAILED';

export interface ValidationIssue {
  type: IssueType;
  /** The object the issue is about (an automation, or a datasource it reads). */
  objectType: 'AUTOMATION' | 'DATASOURCE';
  objectId: string;
  objectName: string;
  /** The field of that object, as its inputs name it (`transform.steps[0].where`, `stepIds[1]`, `join.leftKey`), when one is to blame. */
  field: string | null;
  message: string;
}

export interface ValidationResult {
  success: boolean;
  issues: ValidationIssue[];
}

export interface ValidatorDeps {
  files: FileRoots;
  warehouse: SqlChecker;
  /** checkConnections: tries an SFTP import's server (connect, log in, list); throws what failed. */
  checkConnection?: (automation: Automation) => Promise<void>;
}

/** How far ahead a schedule must fire at least once. */
const SCHEDULE_HORIZON_MS = 5 * 366 * 24 * 3600 * 1000;

/**
 * Checks automations against the workspace as it is now (their live definitions): what a save
 * could not know or has changed since. Reads the lineage graph for the links, the rows for the rest.
 */
export class Validator {
  private readonly issues: ValidationIssue[] = [];
  private readonly seen = new Set<string>();
  private anySet?: ParameterValues;

  constructor(
    private readonly em: EntityManager,
    private readonly graph: Graph,
    private readonly deps: ValidatorDeps,
    private readonly checkConnections = false,
  ) {}

  /** Validates the automations given (all that are in force when none is). */
  async run(automationIds?: string[]): Promise<ValidationResult> {
    const automations = await this.em.find(Automation, automationIds ? { id: { $in: automationIds } } : { draftOnly: false }, { orderBy: { name: 'asc' } });
    const datasources = new Map((await this.em.find(Datasource, {})).map((d) => [d.id, d]));
    for (const automation of automations) await this.automation(automation, datasources);
    if (!automationIds) for (const d of datasources.values()) await this.datasource(d, datasources);
    return { success: this.issues.length === 0, issues: this.issues };
  }

  private add(issue: ValidationIssue): void {
    const key = `${issue.type}|${issue.objectId}|${issue.field}|${issue.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.issues.push(issue);
  }

  private async automation(a: Automation, datasources: Map<string, Datasource>): Promise<void> {
    const node = this.graph.nodes.get(a.id);
    const about = { objectType: 'AUTOMATION' as const, objectId: a.id, objectName: a.name };
    this.schedule(a);
    const settings = parameterizedSettings(a).filter((s) => mentionsParameters(s.value));
    const own = settings.length > 0 ? await ParameterValues.attached(this.em, a.id) : null;
    let parametersOk = true;
    for (const { field, value } of settings) {
      for (const { path, text } of stringsIn(value ?? null, field)) {
        for (const reference of referencesIn(text)) {
          try {
            own!.check(reference.text, path || field);
          } catch (error) {
            parametersOk = false;
            this.add({ type: 'UNKNOWN_PARAMETER', ...about, field: path || field, message: (error as Error).message });
          }
        }
      }
    }
    if (!node) return;
    for (const input of node.inputs) await this.fed(input, a, datasources, new Set());
    if (a.kind === AutomationKind.ETL_STEP && parametersOk) await this.transform(a as EtlStep, node, datasources);
    if (a.kind === AutomationKind.CHAIN_TASK) {
      node.steps.forEach((step, i) => {
        if (step.state !== AutomationState.ACTIVE) {
          this.add({ type: 'CHAIN_STEP_INACTIVE', ...about, field: `stepIds[${i}]`, message: `step ${i + 1}, ${JSON.stringify(step.name)}, is ${step.state}: the chain fails there${step.state === AutomationState.DEACTIVATED ? '' : ' until it is started'}` });
        }
      });
    }
    if (a.kind === AutomationKind.SCRIPT) {
      const declared = new Set([...node.inputs, ...node.outputs]);
      for (const [datasource, matches] of node.codeRefs) {
        if (declared.has(datasource)) continue;
        this.add({ type: 'UNDECLARED_DATASOURCE', ...about, field: 'code', message: `its code names ${JSON.stringify(datasource.name)} (by ${matches.map((m) => (m === 'UUID' ? 'id' : 'name')).join(' and ')}) but does not declare it: tributary.read/write refuse it, and the lineage does not show it` });
      }
    }
    if ((a.kind === AutomationKind.SFTP_IMPORT || a.kind === AutomationKind.DATABASE_TABLE) && this.checkConnections && this.deps.checkConnection) {
      try {
        await this.deps.checkConnection(a);
      } catch (error) {
        this.add({ type: 'CONNECTION_FAILED', ...about, field: 'connectionId', message: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /** An own schedule that cannot fire: no next time within five years, or an automation that is not ACTIVE. */
  private schedule(a: Automation): void {
    if (!a.scheduleCron) return;
    const about = { objectType: 'AUTOMATION' as const, objectId: a.id, objectName: a.name, field: 'schedule.cron' };
    let next: Date | null = null;
    try {
      next = CronExpressionParser.parse(a.scheduleCron, { tz: a.scheduleTimezone ?? 'UTC' }).next().toDate();
    } catch (error) {
      this.add({ type: 'SCHEDULE_NEVER_FIRES', ...about, message: `the schedule ${JSON.stringify(a.scheduleCron)} never fires: ${(error as Error).message}` });
      return;
    }
    if (next.getTime() - Date.now() > SCHEDULE_HORIZON_MS) {
      this.add({ type: 'SCHEDULE_NEVER_FIRES', ...about, message: `the schedule ${JSON.stringify(a.scheduleCron)} does not fire in the next five years (first ${next.toISOString()})` });
    } else if (a.state !== AutomationState.ACTIVE) {
      this.add({ type: 'SCHEDULE_NEVER_FIRES', ...about, field: 'state', message: `it is ${a.state}: its schedule does not fire until it is ${a.state === AutomationState.DEACTIVATED ? 'activated' : 'started'}` });
    }
  }

  /** An input must be written by an automation, or backed by a file; a join's sources likewise. */
  private async fed(input: GraphNode, reader: Automation, datasources: Map<string, Datasource>, path: Set<string>): Promise<void> {
    if (path.has(input.id)) return;
    path.add(input.id);
    const d = datasources.get(input.id);
    if (!d) return;
    const about = { objectType: 'DATASOURCE' as const, objectId: d.id, objectName: d.name };
    if (d.kind === DatasourceKind.JOIN) {
      this.joinKeys(d, datasources);
      for (const source of input.joinSources) await this.fed(source, reader, datasources, path);
      return;
    }
    if (d.kind === DatasourceKind.FILE) {
      const problem = await this.fileProblem(d);
      if (problem) this.add({ type: 'INPUT_NOT_FED', ...about, field: 'path', message: `${JSON.stringify(reader.name)} reads it, but ${problem}` });
      return;
    }
    if (input.producers.length === 0) {
      const held = d.rowCount != null ? `; it holds ${d.rowCount} row(s) written before, which will not change` : '; it holds no data yet';
      this.add({ type: 'INPUT_NOT_FED', ...about, field: null, message: `${JSON.stringify(reader.name)} reads it, but no automation writes it${held}` });
    }
  }

  private async fileProblem(d: Datasource): Promise<string | null> {
    try {
      this.anySet ??= await ParameterValues.all(this.em);
      const path = await this.deps.files.check(this.anySet.resolve(d.path ?? '', 'path'));
      const info = await stat(path).catch(() => null);
      return info?.isFile() ? null : `its file ${path} does not exist`;
    } catch (error) {
      if (error instanceof FileAccessError || error instanceof DomainError) return `its file cannot be read: ${error.message}`;
      throw error;
    }
  }

  private joinKeys(d: Datasource, datasources: Map<string, Datasource>): void {
    for (const [side, sourceRef, key] of [['left', d.joinLeft, d.joinLeftKey], ['right', d.joinRight, d.joinRightKey]] as const) {
      const source = sourceRef ? datasources.get(sourceRef.id) : undefined;
      if (!source || !key || source.columns.length === 0 || source.columns.some((c) => c.name === key)) continue;
      this.add({
        type: 'JOIN_KEY_MISSING',
        objectType: 'DATASOURCE',
        objectId: d.id,
        objectName: d.name,
        field: `join.${side}Key`,
        message: `${JSON.stringify(source.name)} has no column ${JSON.stringify(key)} now; its columns are ${source.columns.map((c) => c.name).join(', ')}`,
      });
    }
  }

  /** The transform against its input's columns as they are now (a run may have changed them since it was saved). */
  private async transform(step: EtlStep, node: GraphNode, datasources: Map<string, Datasource>): Promise<void> {
    const input = node.inputs[0] ? datasources.get(node.inputs[0].id) : undefined;
    if (!input || input.columns.length === 0) return;
    try {
      const transform = mentionsParameters(step.transform) ? (await ParameterValues.attached(this.em, step.id)).resolveJson(step.transform, 'transform') : step.transform;
      await checkTransform(transform, input.columns, this.deps.warehouse);
    } catch (error) {
      if (!(error instanceof DomainError || error instanceof TransformError)) throw error;
      const field = error instanceof DomainError && typeof error.details.field === 'string' ? error.details.field : 'transform';
      this.add({ type: 'TRANSFORM_COLUMNS', objectType: 'AUTOMATION', objectId: step.id, objectName: step.name, field, message: `against the columns ${JSON.stringify(input.name)} has now (${input.columns.map((c) => c.name).join(', ')}): ${error.message}` });
    }
  }

  /** Datasource-level checks of the whole workspace: join keys, and FILE paths naming parameters nobody defines. */
  private async datasource(d: Datasource, datasources: Map<string, Datasource>): Promise<void> {
    if (d.kind === DatasourceKind.JOIN) this.joinKeys(d, datasources);
    if (d.kind === DatasourceKind.FILE && d.path && referencesIn(d.path).length > 0) {
      this.anySet ??= await ParameterValues.all(this.em);
      try {
        this.anySet.check(d.path, 'path');
      } catch (error) {
        this.add({ type: 'UNKNOWN_PARAMETER', objectType: 'DATASOURCE', objectId: d.id, objectName: d.name, field: 'path', message: (error as Error).message });
      }
    }
  }
}
