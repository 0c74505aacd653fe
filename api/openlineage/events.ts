import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { OpenLineageEvent } from '../../core/db/entities/index.js';
import type { Page } from '../../core/paging.js';
import { pageNewestFirst } from '../services/paging.js';
import { runIdOf } from './receive.js';

export interface EventListArgs {
  first?: number | null;
  after?: string | null;
  /** The OpenLineage runId. */
  runId?: string | null;
  /** The external job (automation id) the events are about. */
  automationId?: string | null;
  jobNamespace?: string | null;
  jobName?: string | null;
}

/** Received OpenLineage events, newest first, as sent (kept as long as runs are). */
export async function listOpenLineageEvents(em: EntityManager, args: EventListArgs): Promise<Page<OpenLineageEvent>> {
  const filter: FilterQuery<OpenLineageEvent> = {};
  if (args.runId) filter.runId = runIdOf(String(args.runId));
  if (args.automationId) filter.automation = String(args.automationId);
  if (args.jobNamespace) filter.jobNamespace = String(args.jobNamespace);
  if (args.jobName) filter.jobName = String(args.jobName);
  return pageNewestFirst(em, OpenLineageEvent, filter, args, 'openlineage', 'the OpenLineage events');
}
