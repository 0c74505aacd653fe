import { createHash } from 'node:crypto';
import { DatasourceKind } from '../../core/enums.js';
import { tableOf } from '../warehouse/warehouse.js';

/** An OpenLineage dataset or job identity. */
export interface LineageName {
  namespace: string;
  name: string;
}

/** What naming needs to know of this installation: its job namespace and its warehouse's naming. */
export interface NamingContext {
  /** OPENLINEAGE_NAMESPACE (default `tributary`): Tributary's jobs, and datasets that have no place of their own (joins). */
  namespace: string;
  warehouse: { namespace: string; tablePrefix: string };
}

/** The namespace of local files, as OpenLineage's naming conventions give it. */
export const FILE_NAMESPACE = 'file';

/** The stored identity of an external job or dataset: sha256 of namespace and name (both unbounded text, so never indexed themselves). */
export function olKey(namespace: string, name: string): string {
  return createHash('sha256').update(namespace).update('\u0000').update(name).digest('hex');
}

/**
 * The OpenLineage name of a datasource (documented in the README, "OpenLineage"):
 * - STORAGE: its warehouse table, `sqlite://<warehouse file>` + `ds_<id>`, or `postgres://host:port` + `database.schema.ds_<id>`;
 * - FILE: `file` + its absolute path;
 * - JOIN: the installation's namespace + the datasource's name;
 * - EXTERNAL: the namespace and name the events gave.
 */
export function datasetName(ds: { id: string; kind: DatasourceKind; name: string; path?: string | null; olNamespace?: string | null; olName?: string | null }, ctx: NamingContext): LineageName {
  switch (ds.kind) {
    case DatasourceKind.STORAGE:
      return { namespace: ctx.warehouse.namespace, name: `${ctx.warehouse.tablePrefix}${tableOf(ds)}` };
    case DatasourceKind.FILE:
      return { namespace: FILE_NAMESPACE, name: ds.path ?? ds.name };
    case DatasourceKind.EXTERNAL:
      return { namespace: ds.olNamespace ?? ctx.namespace, name: ds.olName ?? ds.name };
    case DatasourceKind.JOIN:
      return { namespace: ctx.namespace, name: ds.name };
  }
}

/** The OpenLineage name of an automation: an external job's own, otherwise the installation's namespace and the automation's name. */
export function jobName(automation: { name: string; olNamespace?: string | null; olName?: string | null }, ctx: NamingContext): LineageName {
  return automation.olNamespace && automation.olName ? { namespace: automation.olNamespace, name: automation.olName } : { namespace: ctx.namespace, name: automation.name };
}

/** What a dataset name may refer to here, before looking it up: a STORAGE table (by id), a FILE (by path), a datasource by name, or none. */
export type DatasetTarget = { storageId: string } | { filePath: string } | { datasourceName: string } | null;

/** Reads a dataset name back into what it may point at in this installation ({@link datasetName}'s inverse). */
export function datasetTarget({ namespace, name }: LineageName, ctx: NamingContext): DatasetTarget {
  if (namespace === ctx.warehouse.namespace && name.startsWith(ctx.warehouse.tablePrefix)) {
    const hex = /^ds_([0-9a-f]{32})$/.exec(name.slice(ctx.warehouse.tablePrefix.length))?.[1];
    if (hex) return { storageId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` };
  }
  if (namespace === FILE_NAMESPACE || /^file:\/\/(localhost)?$/.test(namespace)) return name.startsWith('/') ? { filePath: name } : null;
  if (namespace === ctx.namespace) return { datasourceName: name };
  return null;
}
