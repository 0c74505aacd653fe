import { noteDeleted } from '../../core/audit/scope.js';
import { ForeignKeyConstraintViolationException, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { ChangedEntity, Column, Datasource, DatasourceKind, JoinType } from '../../core/db/entities/index.js';
import { BadUserInputError, ConflictError, DatasourceInUseError, NotFoundError, type DependentInfo } from '../../core/errors.js';
import type { Page } from '../../core/paging.js';
import type { ColumnInput, CreateDatasourceInput, JoinInput, UpdateDatasourceInput } from './inputs.js';
import { datasourceDependents } from '../lineage/impact.js';
import { pendingDeclarations } from './versions/version.service.js';
import type { LineageStore } from '../lineage/store.js';
import { isDatasource, type GraphNode } from '../lineage/graph.js';
import { DatasourceRepository } from '../../core/db/repositories/datasource.repository.js';
import { pageByName, type PageArgs } from './paging.js';
import { assertOwnTransaction, writeOne, type WriteOptions } from '../../core/db/transaction.js';
import { FileAccessError, type FileRoots } from '../../jobs/warehouse/file-roots.js';
import { LIMITS, checkLabel, checkName, checkRequiredText, checkTags, checkText, notNull } from '../../core/validation.js';
import { referencesIn } from '../../core/parameters/references.js';
import { ParameterValues } from '../../core/parameters/values.js';

export interface DatasourceListArgs extends PageArgs {
  kind?: DatasourceKind | null;
}

/** Datasource rules: validation, join cycle checks and deletion safety. */
export class DatasourceService {
  constructor(
    private readonly em: EntityManager,
    private readonly lineage: LineageStore,
    /** Where FILE datasources may read (FILE_ROOTS); without it no FILE path can be saved. */
    private readonly files?: FileRoots,
  ) {}

  async findById(id: string): Promise<Datasource | null> {
    return this.em.findOne(Datasource, { id });
  }

  async findByName(name: string): Promise<Datasource | null> {
    return this.em.findOne(Datasource, { name });
  }

  async list(args: DatasourceListArgs): Promise<Page<Datasource>> {
    const filter: FilterQuery<Datasource> = args.kind ? { kind: args.kind } : {};
    return pageByName(this.em, Datasource, filter, args);
  }

  /** A new datasource: nothing refers to it yet, so no graph check is needed (and none can form a join cycle). */
  async create(input: CreateDatasourceInput): Promise<Datasource> {
    return this.write(async (em) => {
      if (input.kind === DatasourceKind.EXTERNAL) throw new BadUserInputError('kind', 'EXTERNAL datasources come from OpenLineage events (POST /api/v1/lineage); create STORAGE, FILE or JOIN ones here');
      const datasource = new Datasource();
      datasource.kind = input.kind;
      datasource.name = await this.checkNameFree(em, input.name);
      datasource.description = checkText(input.description, 'description', LIMITS.description);
      datasource.tags = checkTags(input.tags);
      datasource.columns = checkColumns(input.columns);
      this.applyKindFields(datasource, input.path, input.path !== undefined, input.join);
      if (datasource.kind === DatasourceKind.FILE) datasource.path = await this.checkFilePath(em, datasource.path!);
      if (input.kind === DatasourceKind.JOIN) await this.applyJoin(em, datasource, input.join!);
      em.persist(datasource);
      return datasource;
    }, { graphFree: true });
  }

  /** A new datasource with the definition of `id` (kind, columns, path or join, tags), named `name`: no data, no users. */
  async duplicate(id: string, name: string, description?: string | null): Promise<Datasource> {
    const source = await this.findById(id);
    if (!source) throw new NotFoundError('Datasource', id, 'id');
    const join: JoinInput | null =
      source.kind === DatasourceKind.JOIN
        ? { leftId: source.joinLeft!.id, rightId: source.joinRight!.id, leftKey: source.joinLeftKey!, rightKey: source.joinRightKey!, type: source.joinType! }
        : null;
    return this.create({
      name,
      kind: source.kind,
      description: description === undefined ? (source.description ?? null) : description,
      tags: source.tags,
      columns: source.columns,
      ...(source.kind === DatasourceKind.FILE ? { path: source.path } : {}),
      join,
    });
  }

  async update(id: string, input: UpdateDatasourceInput): Promise<Datasource> {
    return this.write(async (em) => {
      const datasource = await em.findOne(Datasource, { id });
      if (!datasource) throw new NotFoundError('Datasource', id, 'id');
      const name = notNull(input.name, 'name');
      if (name !== undefined && name !== datasource.name) datasource.name = await this.checkNameFree(em, name, id);
      if (input.description !== undefined) datasource.description = checkText(input.description, 'description', LIMITS.description);
      if (input.tags !== undefined) datasource.tags = checkTags(notNull(input.tags, 'tags'));
      if (input.columns !== undefined) datasource.columns = checkColumns(notNull(input.columns, 'columns'));
      if (input.path !== undefined || input.join !== undefined) {
        this.applyKindFields(datasource, input.path, input.path !== undefined, input.join);
        if (datasource.kind === DatasourceKind.FILE && input.path !== undefined) datasource.path = await this.checkFilePath(em, datasource.path!);
        if (input.join) await this.applyJoin(em, datasource, input.join);
      }
      return datasource;
    });
  }

  /** What would block deleting this datasource; empty when it can be deleted. */
  async dependents(id: string): Promise<DependentInfo[]> {
    const node = await this.node(this.em, id, 'datasourceId');
    return [...datasourceDependents(node), ...(await pendingDeclarations(this.em, node))];
  }

  /**
   * Deletes a datasource nothing depends on; otherwise refuses with DATASOURCE_IN_USE and changes
   * nothing. The check reads the lineage graph inside the transaction, which already holds the
   * write lock, so no dependent can appear between the check and the delete.
   */
  async delete(id: string): Promise<string> {
    assertOwnTransaction(this.em);
    try {
      return await this.write(async (em) => {
        const node = await this.node(em, id, 'id');
        const dependents = [...datasourceDependents(node), ...(await pendingDeclarations(em, node))];
        if (dependents.length > 0) throw new DatasourceInUseError(node.name, dependents);
        await em.nativeDelete(Datasource, { id });
        noteDeleted('Datasource', id, node.name);
        return id;
      });
    } catch (error) {
      // The foreign keys are the last line of defence; should they fire, answer as the check would.
      if (error instanceof ForeignKeyConstraintViolationException) {
        const node = await this.node(this.em, id, 'id');
        throw new DatasourceInUseError(node.name, datasourceDependents(node));
      }
      throw error;
    }
  }

  private async node(em: EntityManager, id: string, field: string): Promise<GraphNode> {
    const node = (await this.lineage.current(em)).nodes.get(id);
    if (!node || !isDatasource(node)) throw new NotFoundError('Datasource', id, field);
    return node;
  }

  /** Every datasource mutation touches exactly the datasource it returns (or the id it deleted). */
  private write<T extends Datasource | string>(work: (em: EntityManager) => Promise<T>, options?: WriteOptions): Promise<T> {
    return writeOne(this.em, ChangedEntity.DATASOURCE, 'a datasource', work, options);
  }

  private async checkNameFree(em: EntityManager, name: string, exceptId?: string): Promise<string> {
    const checked = checkName(name);
    const clash = await em.findOne(Datasource, { name: checked }, { fields: ['id'] });
    if (clash && clash.id !== exceptId) throw new ConflictError('name', `a datasource named ${JSON.stringify(checked)} already exists`);
    return checked;
  }

  /**
   * A FILE path must lead inside FILE_ROOTS (relative paths are taken from the first root) to a
   * regular file, or to where one may appear, and never to Tributary's own files; the absolute
   * path is stored. It is checked again each time the file is read.
   */
  private async checkFilePath(em: EntityManager, path: string): Promise<string> {
    if (!this.files) throw new Error('FILE datasources cannot be saved without FILE_ROOTS (DatasourceService was built without them)');
    return checkedFilePath(this.files, path, referencesIn(path).length > 0 ? await ParameterValues.all(em) : null);
  }

  /** `path` belongs to FILE datasources and `join` to JOIN ones; each is required there and refused elsewhere. */
  private applyKindFields(datasource: Datasource, path: string | null | undefined, pathGiven: boolean, join: JoinInput | null | undefined) {
    if (datasource.kind === DatasourceKind.FILE) {
      if (pathGiven || !datasource.path) datasource.path = checkRequiredText(path, 'path', LIMITS.path);
    } else if (pathGiven && path !== null) {
      throw new BadUserInputError('path', `path applies to FILE datasources only, not ${datasource.kind}`);
    }
    if (datasource.kind === DatasourceKind.JOIN) {
      if (join === null || (join === undefined && !datasource.joinLeft)) {
        throw new BadUserInputError('join', 'a JOIN datasource needs join: { leftId rightId leftKey rightKey type }');
      }
    } else if (join) {
      throw new BadUserInputError('join', `join applies to JOIN datasources only, not ${datasource.kind}`);
    }
  }

  /** Sets the join spec after checking both sources exist, the keys, and that no join cycle forms. */
  private async applyJoin(em: EntityManager, datasource: Datasource, join: JoinInput): Promise<void> {
    const leftKey = checkRequiredText(join.leftKey, 'join.leftKey', LIMITS.joinKey);
    const rightKey = checkRequiredText(join.rightKey, 'join.rightKey', LIMITS.joinKey);
    const [left, right] = await Promise.all([
      this.joinSource(em, datasource, join.leftId, 'join.leftId'),
      this.joinSource(em, datasource, join.rightId, 'join.rightId'),
    ]);
    checkKeyColumn(left, leftKey, 'join.leftKey');
    checkKeyColumn(right, rightKey, 'join.rightKey');
    await checkNoJoinCycle(em, datasource, [left.id, right.id]);
    datasource.joinLeft = em.getReference(Datasource, left.id, { wrapped: true });
    datasource.joinRight = em.getReference(Datasource, right.id, { wrapped: true });
    datasource.joinLeftKey = leftKey;
    datasource.joinRightKey = rightKey;
    datasource.joinType = join.type ?? JoinType.INNER;
  }

  private async joinSource(em: EntityManager, datasource: Datasource, id: string, field: string): Promise<Datasource> {
    if (id === datasource.id) throw new BadUserInputError(field, 'a join cannot use itself as a source');
    const source = await em.findOne(Datasource, { id });
    if (!source) throw new BadUserInputError(field, `datasource ${JSON.stringify(id)} does not exist`);
    if (source.kind === DatasourceKind.EXTERNAL) throw new BadUserInputError(field, `${JSON.stringify(source.name)} is an EXTERNAL datasource: Tributary holds none of its data, so no join can read it`);
    return source;
  }
}

/** Columns with unique, non-empty names and types. */
export function checkColumns(columns: ColumnInput[] | null | undefined): Column[] {
  if (!columns) return [];
  if (columns.length > LIMITS.columns) throw new BadUserInputError('columns', `at most ${LIMITS.columns} columns are allowed`);
  const seen = new Set<string>();
  return columns.map((column, i) => {
    const name = checkLabel(column.name, `columns[${i}].name`, LIMITS.columnName);
    const type = checkRequiredText(column.type, `columns[${i}].type`, LIMITS.columnType);
    if (seen.has(name)) throw new BadUserInputError(`columns[${i}].name`, `column ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
    return { name, type };
  });
}

/** When a source declares its columns, the join key must be one of them. */
export function checkKeyColumn(source: Pick<Datasource, 'name' | 'columns'>, key: string, field: string): void {
  if (source.columns.length > 0 && !source.columns.some((c) => c.name === key)) {
    throw new BadUserInputError(
      field,
      `datasource ${JSON.stringify(source.name)} has no column ${JSON.stringify(key)}; its columns are ${source.columns.map((c) => c.name).join(', ')}`,
    );
  }
}

/**
 * Refuses join sources that (through joins of joins) are built from `datasource` itself. A
 * recursive query walks up from the new sources only, inside the transaction.
 */
async function checkNoJoinCycle(em: EntityManager, datasource: Datasource, sourceIds: string[]): Promise<void> {
  if (await new DatasourceRepository(em).joinsReach(sourceIds, datasource.id)) throw new BadUserInputError('join', `joining these sources would make ${JSON.stringify(datasource.name)} depend on itself`);
}

/**
 * The FILE path to store: inside FILE_ROOTS (see FileRoots.check), made absolute. A path with
 * parameters is kept as written and checked with their `values` now (and again, filled in, at
 * each read). A refusal is a BAD_USER_INPUT on `path`.
 */
export async function checkedFilePath(files: FileRoots, path: string, values: ParameterValues | null): Promise<string> {
  try {
    if (values && referencesIn(path).length > 0) {
      await files.check(values.resolve(path, 'path'));
      return path;
    }
    return await files.check(path);
  } catch (error) {
    if (error instanceof FileAccessError) throw new BadUserInputError('path', error.message);
    throw error;
  }
}
