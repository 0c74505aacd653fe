import { gql } from '../lib/graphql.js';

export interface ValidationIssue {
  type: string;
  objectType: 'AUTOMATION' | 'DATASOURCE';
  objectId: string;
  objectName: string;
  field: string | null;
  message: string;
}
export interface ValidationResult {
  success: boolean;
  issues: ValidationIssue[];
}

export async function validateAutomation(id: string, checkConnections = false): Promise<ValidationResult> {
  const data = await gql<{ validateAutomation: ValidationResult }>(`query ($id: ID!, $check: Boolean) { validateAutomation(id: $id, checkConnections: $check) { success issues { type objectType objectId objectName field message } } }`, { id, check: checkConnections });
  return data.validateAutomation;
}

export async function validateWorkspace(checkConnections = false): Promise<ValidationResult> {
  const data = await gql<{ validateWorkspace: ValidationResult }>(`query ($check: Boolean) { validateWorkspace(checkConnections: $check) { success issues { type objectType objectId objectName field message } } }`, { check: checkConnections });
  return data.validateWorkspace;
}

/** Plain words for each issue type. */
export const ISSUE_LABELS: Record<string, string> = {
  TRANSFORM_COLUMNS: 'Transform and columns disagree',
  INPUT_NOT_FED: 'Input nothing feeds',
  CHAIN_STEP_INACTIVE: 'Chain step not active',
  SCHEDULE_NEVER_FIRES: 'Schedule never fires',
  UNKNOWN_PARAMETER: 'Unknown parameter',
  UNDECLARED_DATASOURCE: 'Undeclared datasource in code',
  JOIN_KEY_MISSING: 'Join key missing',
  CONNECTION_FAILED: 'Connection failed',
};
