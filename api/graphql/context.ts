import type { ServerResponse } from 'node:http';
import type { EntityManager } from '@mikro-orm/knex';
import type { Logger } from 'pino';
import type { Graph } from '../lineage/graph.js';
import type { LineageStore } from '../lineage/store.js';
import type { Warehouse } from '../../jobs/warehouse/warehouse.js';
import type { ScriptRunner } from '../../jobs/runners/script.runner.js';
import type { SftpState } from '../../jobs/runners/sftp-state.js';
import { AutomationService } from '../services/automation.service.js';
import { VersionService } from '../services/versions/version.service.js';
import { ParameterSetService } from '../services/parameter-sets/parameter-set.service.js';
import { TemplateService } from '../services/templates/template.service.js';
import { ConnectionService } from '../services/connections/connection.service.js';
import { ConnectorService } from '../services/connectors/connector.service.js';
import { IngestionStatistics } from '../services/statistics/ingestion-statistics.js';
import { DataService } from '../../jobs/warehouse/data.service.js';
import { DatasourceService } from '../services/datasource.service.js';
import type { SecretBox } from '../../core/secrets.js';
import { RunService } from '../../jobs/runs/run.service.js';
import type { RunControl } from '../../jobs/runs/run-control.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { Principal } from '../../core/auth/roles.js';
import { Role } from '../../core/enums.js';
import { BadUserInputError } from '../../core/errors.js';

/** What a resolver may do with the HTTP exchange: the caller's address and the session cookie. */
export interface HttpExchange {
  /** The client's address (the socket's peer), for login throttling. */
  address: string;
  setSessionCookie(token: string, expiresAt: Date): void;
  clearSessionCookie(): void;
}

/** What every resolver gets: a request-scoped EntityManager, its loaders, the services and the lineage graph. */
export interface Context {
  em: EntityManager;
  loaders: Loaders;
  datasources: DatasourceService;
  automations: AutomationService;
  versions: VersionService;
  parameterSets: ParameterSetService;
  templates: TemplateService;
  connections: ConnectionService;
  connectors: ConnectorService;
  statistics: IngestionStatistics;
  data: DataService;
  runs: RunService;
  /** The scheduler: queues runs, follows automation changes. */
  scheduler: RunControl;
  warehouse: Warehouse;
  secrets: SecretBox;
  sftpState: SftpState;
  /** The process's one ScriptRunner (sandboxed per SCRIPT_SANDBOX): script previews run there. */
  scripts: ScriptRunner;
  /** The lineage graph, brought up to date once per request (and again after a mutation). */
  graph(): Promise<Graph>;
  /** The lineage graph as it was at a past time (built from the history tables). */
  graphAsOf(at: Date): Promise<Graph>;
  /** Forgets what this request has read: called after a mutation so later fields see the new state. */
  invalidate(): void;
  logger: Logger;
  /** Aborts when the client goes away before the answer is sent: warehouse reads stop then. */
  signal: AbortSignal;
  /** Who sent the request (checked against api/auth/access.ts before anything runs); null: nobody signed in. */
  principal: Principal | null;
  /** The HTTP exchange; null outside HTTP. */
  http: HttpExchange | null;
}

export interface AppDependencies {
  em: EntityManager;
  secrets: SecretBox;
  lineage: LineageStore;
  warehouse: Warehouse;
  sftpState: SftpState;
  scheduler: RunControl;
  scripts: ScriptRunner;
  logger: Logger;
  /** The request's {@link requestSignal}; none (never aborts) outside HTTP. */
  signal?: AbortSignal;
  principal?: Principal | null;
  http?: HttpExchange | null;
}

/** A signal that aborts when the HTTP response closes before it was fully sent (the client left). */
export function requestSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** One EntityManager fork per request, so identity maps and loader caches never leak between requests. */
export function createContext(deps: AppDependencies): Context {
  const em = deps.em.fork() as EntityManager;
  let graph: Promise<Graph> | undefined;
  let pastGraph: { time: number; graph: Promise<Graph> } | undefined;
  const loaders = createLoaders(em, () => (graph ??= deps.lineage.current(em)), deps.scheduler);
  return {
    em,
    loaders,
    datasources: new DatasourceService(em, deps.lineage, deps.warehouse.files),
    automations: new AutomationService(em, deps.secrets, deps.lineage, (id) => afterChange(deps, id), deps.warehouse, deps.principal?.userId ?? null),
    versions: new VersionService(em, deps.principal ? { id: deps.principal.userId, role: deps.principal.role } : null, (id) => afterChange(deps, id)),
    parameterSets: new ParameterSetService(em),
    templates: new TemplateService(em, { secrets: deps.secrets, files: deps.warehouse.files, warehouse: deps.warehouse, lineage: deps.lineage, actorId: deps.principal?.userId ?? null }),
    connections: new ConnectionService(em, deps.secrets),
    connectors: new ConnectorService(em, {
      secrets: deps.secrets,
      lineage: deps.lineage,
      files: deps.warehouse.files,
      warehouse: deps.warehouse,
      actorId: deps.principal?.userId ?? null,
      mayDeleteLive: deps.principal?.role === Role.ADMIN,
      automationChanged: (id) => afterChange(deps, id),
    }),
    statistics: new IngestionStatistics(em),
    data: new DataService(em, deps.warehouse),
    runs: new RunService(em),
    scheduler: deps.scheduler,
    warehouse: deps.warehouse,
    secrets: deps.secrets,
    sftpState: deps.sftpState,
    scripts: deps.scripts,
    graph: () => (graph ??= deps.lineage.current(em)),
    graphAsOf(at) {
      // One past time per request: each is a build of its own, and aliases must not multiply them.
      if (pastGraph && pastGraph.time !== at.getTime()) {
        return Promise.reject(new BadUserInputError('filter.asOf', 'a request may ask for the lineage at one asOf time only: send one request per time'));
      }
      pastGraph ??= { time: at.getTime(), graph: deps.lineage.asOf(em, at) };
      return pastGraph.graph;
    },
    invalidate() {
      graph = undefined;
      loaders.clearAll();
    },
    logger: deps.logger,
    signal: deps.signal ?? new AbortController().signal,
    principal: deps.principal ?? null,
    http: deps.http ?? null,
  };
}

/** The change is committed: a failure to update the job store is logged, and the next reconcile repairs it. */
async function afterChange(deps: AppDependencies, automationId: string): Promise<void> {
  try {
    await deps.scheduler.automationChanged(automationId);
  } catch (error) {
    deps.logger.error({ err: error, automationId }, 'could not bring the job store in line with an automation change; the next reconcile will');
  }
}
