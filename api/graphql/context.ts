import type { EntityManager } from '@mikro-orm/sqlite';
import type { Logger } from 'pino';
import type { Graph } from '../lineage/graph.js';
import type { LineageStore } from '../lineage/store.js';
import type { Warehouse } from '../../jobs/warehouse/warehouse.js';
import type { SftpState } from '../../jobs/runners/sftp-state.js';
import { AutomationService } from '../services/automation.service.js';
import { DataService } from '../services/data.service.js';
import { DatasourceService } from '../services/datasource.service.js';
import type { SecretBox } from '../services/secrets.js';
import { createLoaders, type Loaders } from './loaders.js';

/** What every resolver gets: a request-scoped EntityManager, its loaders, the services and the lineage graph. */
export interface Context {
  em: EntityManager;
  loaders: Loaders;
  datasources: DatasourceService;
  automations: AutomationService;
  data: DataService;
  warehouse: Warehouse;
  secrets: SecretBox;
  sftpState: SftpState;
  /** The lineage graph, brought up to date once per request (and again after a mutation). */
  graph(): Promise<Graph>;
  /** Forgets what this request has read: called after a mutation so later fields see the new state. */
  invalidate(): void;
  logger: Logger;
}

export interface AppDependencies {
  em: EntityManager;
  secrets: SecretBox;
  lineage: LineageStore;
  warehouse: Warehouse;
  sftpState: SftpState;
  logger: Logger;
}

/** One EntityManager fork per request, so identity maps and loader caches never leak between requests. */
export function createContext(deps: AppDependencies): Context {
  const em = deps.em.fork() as EntityManager;
  let graph: Promise<Graph> | undefined;
  const loaders = createLoaders(em, () => (graph ??= deps.lineage.current(em)));
  return {
    em,
    loaders,
    datasources: new DatasourceService(em, deps.lineage),
    automations: new AutomationService(em, deps.secrets, deps.lineage),
    data: new DataService(em, deps.warehouse),
    warehouse: deps.warehouse,
    secrets: deps.secrets,
    sftpState: deps.sftpState,
    graph: () => (graph ??= deps.lineage.current(em)),
    invalidate() {
      graph = undefined;
      loaders.clearAll();
    },
    logger: deps.logger,
  };
}
