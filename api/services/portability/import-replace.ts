import { AutomationKind, ConnectionType, DatasourceKind } from '../../../core/db/entities/index.js';
import { BadUserInputError, ConflictError } from '../../../core/errors.js';
import type { AutomationService } from '../automation.service.js';
import type { DatasourceService } from '../datasource.service.js';
import type { Lookups, Target } from './import-build.js';
import type { ExportedAutomation, ExportedDatasource } from './format.js';

const idOf = (found: { id: string } | undefined, field: string, what: string, name: string): string => {
  if (!found) throw new BadUserInputError(field, `${what} ${JSON.stringify(name)} is neither in the import nor in this workspace`);
  return found.id;
};

/** The datasource here takes the imported definition (its kind must be the same), through updateDatasource. */
export async function replaceDatasource(service: DatasourceService, target: Target, file: ExportedDatasource, lookups: Lookups): Promise<void> {
  if (target.kind !== file.kind) throw new ConflictError('kind', `${JSON.stringify(target.name)} is a ${target.kind} datasource here; it cannot be replaced by a ${file.kind} one`);
  const join =
    file.kind === DatasourceKind.JOIN && file.join
      ? {
          leftId: idOf(lookups.datasource(file.join.left), 'join.left', 'datasource', file.join.left),
          rightId: idOf(lookups.datasource(file.join.right), 'join.right', 'datasource', file.join.right),
          leftKey: file.join.leftKey,
          rightKey: file.join.rightKey,
          type: file.join.type,
        }
      : undefined;
  await service.update(target.id, {
    description: file.description,
    tags: file.tags,
    columns: file.columns,
    ...(file.kind === DatasourceKind.FILE ? { path: file.path } : {}),
    ...(join ? { join } : {}),
  });
}

/**
 * The automation here takes the imported definition (its kind must be the same) through its
 * update mutation: live at once, or its draft while approval is required. Secrets not in the
 * export are kept.
 */
export async function replaceAutomation(service: AutomationService, target: Target, file: ExportedAutomation, lookups: Lookups): Promise<void> {
  if (target.kind !== file.kind) throw new ConflictError('kind', `${JSON.stringify(target.name)} is a ${target.kind} here; it cannot be replaced by a ${file.kind}`);
  const datasource = (name: string, field: string) => idOf(lookups.datasource(name), field, 'datasource', name);
  const s = file.settings as Record<string, any>;
  const common = {
    description: file.description,
    schedule: file.schedule,
    errorPolicy: file.errorPolicy as never,
    errorRecordFormat: file.errorRecordFormat as never,
    errorDatasourceId: file.errorDatasource ? datasource(file.errorDatasource, 'errorDatasource') : null,
    parameterSetIds: file.parameterSets.map((n, i) => idOf(lookups.sets.get(n), `parameterSets[${i}]`, 'parameter set', n)),
  };
  const data = { ...common, writeMode: file.writeMode as never, writeKeys: file.writeKeys };
  const ids = (names: string[], field: string) => names.map((n, i) => datasource(n, `${field}[${i}]`));
  switch (file.kind) {
    case AutomationKind.ETL_STEP:
      await service.updateEtlStep(target.id, { ...data, inputId: ids(file.inputs, 'inputs')[0], outputId: ids(file.outputs, 'outputs')[0], transform: s.transform });
      return;
    case AutomationKind.SFTP_IMPORT: {
      const connectionId = await lookups.connection(s, ConnectionType.SFTP, target.name);
      const { remoteDir, filePattern, hostKeyFingerprint, afterImport, moveToDir } = s;
      await service.updateSftpImport(target.id, { ...data, connectionId, remoteDir, filePattern, hostKeyFingerprint, afterImport, moveToDir, outputId: ids(file.outputs, 'outputs')[0] });
      return;
    }
    case AutomationKind.DATABASE_TABLE: {
      const connectionId = await lookups.connection(s, s.connectionType === ConnectionType.MYSQL ? ConnectionType.MYSQL : ConnectionType.POSTGRES, target.name);
      await service.updateDatabaseIngestion(target.id, { ...data, connectionId, table: s.table ?? null, query: s.query ?? null, cursorColumn: s.cursorColumn ?? null, outputId: ids(file.outputs, 'outputs')[0] });
      return;
    }
    case AutomationKind.SCRIPT:
      await service.updateScript(target.id, { ...data, language: s.language, code: s.code, variables: s.variables, timeoutSeconds: s.timeoutSeconds, memoryMb: s.memoryMb, inputIds: ids(file.inputs, 'inputs'), outputIds: ids(file.outputs, 'outputs') });
      return;
    case AutomationKind.CHAIN_TASK:
      await service.updateChainTask(target.id, {
        ...common,
        stepIds: ((s.steps as string[] | undefined) ?? []).map((n, i) => idOf(lookups.automation(n), `steps[${i}]`, 'automation', n)),
        continueOnFailure: s.continueOnFailure === true,
      });
  }
}
