import { ApiToken, AuditEvent, LoginThrottle, UserAccount, UserSession } from './account.js';
import { Automation } from './automation.js';
import { AutomationVersion } from './automation-version.js';
import { ChainTask, DatabaseIngestion, EtlStep, ExternalJob, Script, SftpImport } from './automation-kinds.js';
import { OpenLineageEvent } from './openlineage-event.js';
import { Connection } from './connection.js';
import { Connector } from './connector.js';
import { IngestionHour } from './ingestion-hour.js';
import { Datasource } from './datasource.js';
import { LineageChange, LineageVersion } from './lineage-change.js';
import { AutomationHistory, AutomationIoHistory, ChainStepHistory, DatasourceHistory } from './lineage-history.js';
import { AutomationIo, ChainStep, ScriptToken } from './links.js';
import { Run, RunDataset, RunLog } from './run.js';
import { Setting } from './setting.js';
import { AutomationParameterSet, ParameterSet } from './parameter-set.js';
import { Template } from './template.js';

export * from '../../enums.js';
export { Automation } from './automation.js';
export { AutomationVersion } from './automation-version.js';
export { ChainTask, DatabaseIngestion, EtlStep, ExternalJob, Script, SftpImport } from './automation-kinds.js';
export { OpenLineageEvent } from './openlineage-event.js';
export { Connection } from './connection.js';
export { Connector } from './connector.js';
export { IngestionHour } from './ingestion-hour.js';
export { Column, Datasource } from './datasource.js';
export { AutomationIo, ChainStep, ScriptToken, ScriptTokenKind } from './links.js';
export { Run, RunDataset, RunLog } from './run.js';
export { ChangedEntity, LineageChange, LineageVersion } from './lineage-change.js';
export { AutomationHistory, AutomationIoHistory, ChainStepHistory, DatasourceHistory } from './lineage-history.js';
export { Setting } from './setting.js';
export { AutomationParameterSet, ParameterSet, type Parameter } from './parameter-set.js';
export { Template, type TemplateParameter } from './template.js';
export { ApiToken, AuditEvent, LoginThrottle, UserAccount, UserSession } from './account.js';

/** Every MikroORM entity, for the ORM configuration. */
export const ENTITIES = [Datasource, Automation, EtlStep, SftpImport, Script, ChainTask, DatabaseIngestion, ExternalJob, Connection, Connector, IngestionHour, AutomationIo, ChainStep, ScriptToken, LineageVersion, LineageChange, Run, RunLog, Setting, UserAccount, UserSession, ApiToken, LoginThrottle, AuditEvent, AutomationVersion, ParameterSet, AutomationParameterSet, Template, OpenLineageEvent, RunDataset, DatasourceHistory, AutomationHistory, AutomationIoHistory, ChainStepHistory];
