import type { EntityManager } from '@mikro-orm/sqlite';
import type { Logger } from 'pino';
import { AutomationService } from '../services/automation.service.js';
import { DatasourceService } from '../services/datasource.service.js';
import type { SecretBox } from '../services/secrets.js';
import { createLoaders, type Loaders } from './loaders.js';

/** What every resolver gets: a request-scoped EntityManager, its loaders and the services. */
export interface Context {
  em: EntityManager;
  loaders: Loaders;
  datasources: DatasourceService;
  automations: AutomationService;
  logger: Logger;
}

export interface AppDependencies {
  em: EntityManager;
  secrets: SecretBox;
  logger: Logger;
}

/** One EntityManager fork per request, so identity maps and loader caches never leak between requests. */
export function createContext(deps: AppDependencies): Context {
  const em = deps.em.fork() as EntityManager;
  return {
    em,
    loaders: createLoaders(em),
    datasources: new DatasourceService(em),
    automations: new AutomationService(em, deps.secrets),
    logger: deps.logger,
  };
}
