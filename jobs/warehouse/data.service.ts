import type { EntityManager } from '@mikro-orm/knex';
import { ChangedEntity, Datasource, DatasourceKind } from '../../core/db/entities/index.js';
import { BadUserInputError, DataUnavailableError, NotFoundError } from '../../core/errors.js';
import { MissingDataError } from './sqlite-warehouse.js';
import { FileAccessError } from './file-roots.js';
import { FileRowError } from './files.js';
import { AnswerTooLargeError, MAX_ANSWER_BYTES, MAX_VALUE_BYTES, QueryTimeoutError, ValueTooLargeError, WarehouseBusyError } from './limits.js';
import type { DataStats, DatasourceSpec, RowPage, Warehouse } from './warehouse.js';
import { writeOne } from '../../core/db/transaction.js';
import { ParameterError, ParameterValues } from '../../core/parameters/values.js';
import { mentionsParameters } from '../../core/parameters/references.js';

/** Joins of joins deeper than this are refused when read (cycles are refused when saved). */
const MAX_JOIN_DEPTH = 64;

/** A datasource's data: reading it from the warehouse, and recording its shape after a write. */
export class DataService {
  constructor(
    private readonly em: EntityManager,
    private readonly warehouse: Warehouse,
  ) {}

  /** What the warehouse needs to read or write a datasource, its join sources resolved. */
  async spec(id: string, field = 'datasourceId'): Promise<DatasourceSpec> {
    const datasource = await this.em.findOne(Datasource, { id });
    if (!datasource) throw new NotFoundError('Datasource', id, field);
    return this.specOf(datasource, 0);
  }

  private async specOf(ds: Datasource, depth: number): Promise<DatasourceSpec> {
    if (ds.kind === DatasourceKind.EXTERNAL) throw new DataUnavailableError(`${JSON.stringify(ds.name)} is an EXTERNAL datasource, known from OpenLineage events: Tributary holds none of its data`);
    if (ds.kind !== DatasourceKind.JOIN) return { id: ds.id, kind: ds.kind, path: ds.path };
    if (depth > MAX_JOIN_DEPTH) throw new BadUserInputError('datasourceId', `joins are nested more than ${MAX_JOIN_DEPTH} deep`);
    const [left, right] = await Promise.all([this.em.findOneOrFail(Datasource, { id: ds.joinLeft!.id }), this.em.findOneOrFail(Datasource, { id: ds.joinRight!.id })]);
    return {
      id: ds.id,
      kind: ds.kind,
      join: { left: await this.specOf(left, depth + 1), right: await this.specOf(right, depth + 1), leftKey: ds.joinLeftKey!, rightKey: ds.joinRightKey!, type: ds.joinType! },
    };
  }

  /**
   * A page of rows; a datasource that holds no data yet answers an empty page. The read takes a
   * turn of the warehouse's request limiter (time limit QUERY_TIMEOUT_MS, a few at once) and stops
   * when `signal` aborts (the client left); a page ends early where its rows would exceed
   * MAX_ANSWER_BYTES of JSON (its cursor continues from there).
   */
  async rows(id: string, first: number, after?: string | null, signal?: AbortSignal): Promise<RowPage & { totalCount: number | null }> {
    const spec = await this.spec(id);
    const filled = !mentionsParameters(spec) ? spec : await ParameterValues.all(this.em).then((values) => fillPaths(spec, values)).catch((error: unknown) => {
      throw error instanceof ParameterError ? new DataUnavailableError(error.message) : error;
    });
    if (after != null && !/^[A-Za-z0-9_-]{1,40}$/.test(after)) throw new BadUserInputError('after', 'this cursor was not issued by rows()');
    const datasource = await this.em.findOneOrFail(Datasource, { id });
    try {
      const page = await this.warehouse.requests.run(signal, (stop) => this.warehouse.page(filled, first, after, { signal: stop, maxBytes: MAX_ANSWER_BYTES }));
      return { ...page, totalCount: datasource.rowCount ?? null };
    } catch (error) {
      if (error instanceof MissingDataError) return { columns: [], rows: [], endCursor: null, totalCount: 0 };
      throw explainReadError(error, datasource);
    }
  }

  /** Records the columns, row count and time of a write, as one mutation of the datasource. */
  recordWrite(id: string, stats: DataStats): Promise<Datasource> {
    return writeOne(this.em, ChangedEntity.DATASOURCE, 'a datasource', async (em) => {
      const datasource = await em.findOneOrFail(Datasource, { id });
      datasource.columns = stats.columns;
      datasource.rowCount = stats.rowCount;
      datasource.updatedAt = new Date();
      return datasource;
    });
  }
}

/** File problems and stopped reads become clear errors for the user; anything else stays an internal error. */
export function explainReadError(error: unknown, datasource: { name: string; path?: string | null }): unknown {
  const name = JSON.stringify(datasource.name);
  if (error instanceof FileAccessError) {
    if (error.reason === 'MISSING') return new DataUnavailableError(`the file of datasource ${name} does not exist: ${datasource.path}`);
    if (error.reason === 'UNREADABLE') return new DataUnavailableError(`the file of datasource ${name} cannot be read: ${error.message}`);
    return new DataUnavailableError(`the file of datasource ${name} is not read: ${error.message}`, 'FILE_REFUSED');
  }
  if (error instanceof QueryTimeoutError) return new DataUnavailableError(`reading datasource ${name} ${error.message}`, 'TIMEOUT');
  if (error instanceof WarehouseBusyError) return new DataUnavailableError(`datasource ${name} was not read: ${error.message}`, 'BUSY');
  if (error instanceof AnswerTooLargeError) return new DataUnavailableError(`datasource ${name} cannot be paged: ${error.message}`, 'TOO_LARGE');
  if ((error as { code?: string }).code === 'SQLITE_TOOBIG' || error instanceof ValueTooLargeError) return new DataUnavailableError(`datasource ${name} cannot be paged: a value is larger than the ${MAX_VALUE_BYTES / 1024 / 1024} MB one answer may read`, 'TOO_LARGE');
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DataUnavailableError(`the file of datasource ${JSON.stringify(datasource.name)} does not exist: ${datasource.path}`);
  if (code === 'EACCES') return new DataUnavailableError(`the file of datasource ${JSON.stringify(datasource.name)} cannot be read: ${datasource.path}`);
  if (error instanceof FileRowError) return new DataUnavailableError(`datasource ${JSON.stringify(datasource.name)}: ${error.message}`);
  return error;
}

/** A datasource spec with the parameters of its FILE path (and its join sources' paths) filled in. */
export function fillPaths(spec: DatasourceSpec, values: ParameterValues): DatasourceSpec {
  if (spec.join) return { ...spec, join: { ...spec.join, left: fillPaths(spec.join.left, values), right: fillPaths(spec.join.right, values) } };
  return spec.path ? { ...spec, path: values.resolve(spec.path, 'path') } : spec;
}
