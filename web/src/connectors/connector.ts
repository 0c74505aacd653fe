import { gql } from '../lib/graphql.js';

export type ConnectorStatus = 'INSTALLED' | 'CONFIGURING' | 'STARTED' | 'PAUSED' | 'ERROR';
export type ConfigurationStatus = 'PREREQUISITES' | 'CONNECTOR_CONFIGURED' | 'CONNECTION_CONFIGURED' | 'FINALIZED';

export interface Ingestion {
  id: string;
  name: string;
  kind: string;
  state: string;
  lastRunStatus: string | null;
  outputs: { id: string; name: string }[];
}

export interface ConnectorDetail {
  id: string;
  name: string;
  type: 'SFTP' | 'POSTGRES' | 'MYSQL';
  status: ConnectorStatus;
  configurationStatus: ConfigurationStatus | null;
  prerequisitesDone: boolean;
  prerequisites: string[];
  tablePrefix: string | null;
  scheduleCron: string | null;
  scheduleTimezone: string | null;
  lastError: string | null;
  connection: { id: string; name: string } | null;
  ingestions: Ingestion[];
}

export const TYPE_LABEL: Record<ConnectorDetail['type'], string> = { POSTGRES: 'PostgreSQL', MYSQL: 'MySQL / MariaDB', SFTP: 'SFTP' };

/** The wizard's steps, in order, as seed 002 names them. */
export const STEPS: { status: ConfigurationStatus | 'DESTINATION'; label: string }[] = [
  { status: 'PREREQUISITES', label: 'Prerequisites' },
  { status: 'DESTINATION', label: 'Connector configuration' },
  { status: 'CONNECTOR_CONFIGURED', label: 'Connection configuration' },
  { status: 'CONNECTION_CONFIGURED', label: 'Finalization' },
];

/** The step the wizard shows now (0-based); 4 once finalized. */
export function currentStep(c: ConnectorDetail): number {
  switch (c.configurationStatus) {
    case 'PREREQUISITES':
      return c.prerequisitesDone ? 1 : 0;
    case 'CONNECTOR_CONFIGURED':
      return 2;
    case 'CONNECTION_CONFIGURED':
      return 3;
    default:
      return 4;
  }
}

export async function loadConnector(id: string): Promise<ConnectorDetail | null> {
  const query = `query($id: ID!) { connector(id: $id) { id name type status configurationStatus prerequisitesDone prerequisites tablePrefix scheduleCron scheduleTimezone lastError
    connection { id name } ingestions { id name kind state lastRunStatus outputs { id name } } } }`;
  return (await gql<{ connector: ConnectorDetail | null }>(query, { id })).connector;
}

export async function sourceTables(id: string): Promise<string[]> {
  return (await gql<{ connector: { sourceTables: string[] } | null }>('query($id: ID!) { connector(id: $id) { sourceTables } }', { id })).connector?.sourceTables ?? [];
}
