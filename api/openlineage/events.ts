import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { OpenLineageEvent } from '../../core/db/entities/index.js';
import { checkPageSize, decodeCursor, toPage, type Page } from '../../core/paging.js';
import { BadUserInputError } from '../../core/errors.js';
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
  const first = checkPageSize(args.first);
  const filter: FilterQuery<OpenLineageEvent> = {};
  if (args.runId) filter.runId = runIdOf(String(args.runId));
  if (args.automationId) filter.automation = String(args.automationId);
  if (args.jobNamespace) filter.jobNamespace = String(args.jobNamespace);
  if (args.jobName) filter.jobName = String(args.jobName);
  const totalCount = await em.count(OpenLineageEvent, filter);
  let after: number | undefined;
  if (args.after) {
    const cursor = decodeCursor(args.after);
    if (cursor.name !== 'openlineage' || !/^\d{1,15}$/.test(cursor.id)) throw new BadUserInputError('after', 'after is not a cursor of the OpenLineage events');
    after = Number(cursor.id);
  }
  const rows = first === 0 ? [] : await em.find(OpenLineageEvent, after === undefined ? filter : { ...filter, id: { $lt: after } }, { orderBy: { id: 'desc' }, limit: first + 1 });
  return toPage(rows, first, totalCount, after !== undefined, (row) => ({ name: 'openlineage', id: String(row.id) }));
}
