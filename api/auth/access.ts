import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { Role } from '../../core/enums.js';
import { roleAllows, type Principal } from '../../core/auth/roles.js';

/** Answers without a session: what the login and first-admin setup pages need, and nothing else. */
export const PUBLIC = 'PUBLIC' as const;
/** Any signed-in user or token, whatever the role (the resolver itself narrows what it returns). */
export const SIGNED_IN = 'SIGNED_IN' as const;
export type Access = typeof PUBLIC | typeof SIGNED_IN | Role;

/**
 * Who may call each root field. A field missing here is refused to everyone (FORBIDDEN), so a new
 * query or mutation does nothing until it is given a rule, and a test fails until then. Checked
 * once the operation is known and before anything executes: a refused request writes nothing.
 */
export const ACCESS: { Query: Record<string, Access>; Mutation: Record<string, Access> } = {
  Query: {
    me: PUBLIC,
    setupRequired: PUBLIC,
    automation: Role.VIEWER,
    automationDeletionImpact: Role.VIEWER,
    automations: Role.VIEWER,
    datasource: Role.VIEWER,
    datasources: Role.VIEWER,
    deletionImpact: Role.VIEWER,
    downstreamImpact: Role.VIEWER,
    lineage: Role.VIEWER,
    // A preview runs the automation's code (or a draft of it): code execution, an editor's right.
    previewAutomation: Role.EDITOR,
    rows: Role.VIEWER,
    run: Role.VIEWER,
    scheduleTimes: Role.VIEWER,
    undeclaredScripts: Role.VIEWER,
    users: Role.ADMIN,
    apiTokens: SIGNED_IN,
    // Each object's History tab: who changed what (never a secret's value).
    auditLog: Role.VIEWER,
    automationVersion: Role.VIEWER,
    awaitingReview: Role.VIEWER,
    versionDiff: Role.VIEWER,
    settings: Role.VIEWER,
    parameterSets: Role.VIEWER,
    parameterSet: Role.VIEWER,
    validateAutomation: Role.VIEWER,
    validateWorkspace: Role.VIEWER,
    templates: Role.VIEWER,
    connections: Role.VIEWER,
    connection: Role.VIEWER,
    connectors: Role.VIEWER,
    connector: Role.VIEWER,
    ingestionStatistics: Role.VIEWER,
    ingestionAnomalies: Role.VIEWER,
    openLineageEvents: Role.VIEWER,
    lineageDrift: Role.VIEWER,
    runActivity: Role.VIEWER,
    upcomingRuns: Role.VIEWER,
  },
  Mutation: {
    login: PUBLIC,
    setupFirstAdmin: PUBLIC,
    logout: SIGNED_IN,
    logoutEverywhere: SIGNED_IN,
    changePassword: SIGNED_IN,
    createApiToken: SIGNED_IN,
    revokeApiToken: SIGNED_IN,
    createUser: Role.ADMIN,
    updateUser: Role.ADMIN,
    createDatasource: Role.EDITOR,
    updateDatasource: Role.EDITOR,
    deleteDatasource: Role.EDITOR,
    createEtlStep: Role.EDITOR,
    updateEtlStep: Role.EDITOR,
    createSftpImport: Role.EDITOR,
    updateSftpImport: Role.EDITOR,
    createScript: Role.EDITOR,
    updateScript: Role.EDITOR,
    createChainTask: Role.EDITOR,
    updateChainTask: Role.EDITOR,
    deleteAutomation: Role.EDITOR,
    setSchedule: Role.EDITOR,
    clearSchedule: Role.EDITOR,
    runAutomation: Role.EDITOR,
    pauseAutomation: Role.EDITOR,
    stopAutomation: Role.EDITOR,
    startAutomation: Role.EDITOR,
    deactivateAutomation: Role.EDITOR,
    activateAutomation: Role.EDITOR,
    duplicateAutomation: Role.EDITOR,
    duplicateDatasource: Role.EDITOR,
    submitForApproval: Role.EDITOR,
    approveVersion: Role.ADMIN,
    rejectVersion: Role.ADMIN,
    reopenDraft: Role.EDITOR,
    makeLive: Role.EDITOR,
    discardDraft: Role.EDITOR,
    updateSettings: Role.ADMIN,
    createParameterSet: Role.EDITOR,
    updateParameterSet: Role.EDITOR,
    deleteParameterSet: Role.EDITOR,
    saveAsTemplate: Role.EDITOR,
    deleteTemplate: Role.EDITOR,
    createFromTemplate: Role.EDITOR,
    // The credential store: admins keep it, editors select from it (and test what they select).
    createConnection: Role.ADMIN,
    updateConnection: Role.ADMIN,
    deleteConnection: Role.ADMIN,
    testConnection: Role.EDITOR,
    createDatabaseIngestion: Role.EDITOR,
    updateDatabaseIngestion: Role.EDITOR,
    // Connectors make and run ingestions (an editor's work) with connections admins keep.
    createConnector: Role.EDITOR,
    completePrerequisites: Role.EDITOR,
    configureConnector: Role.EDITOR,
    setConnectorConnection: Role.EDITOR,
    finalizeConnector: Role.EDITOR,
    addConnectorTables: Role.EDITOR,
    removeConnectorIngestion: Role.EDITOR,
    setIngestionEnabled: Role.EDITOR,
    pauseConnector: Role.EDITOR,
    resumeConnector: Role.EDITOR,
  },
};

/**
 * What only a signed-in person may do, never an API token (a machine's credential): make tokens
 * or users, change roles or a password, end every session. So a leaked token cannot outlive its
 * revocation or expiry by minting another credential.
 */
export const SESSION_ONLY = new Set(['createApiToken', 'revokeApiToken', 'createUser', 'updateUser', 'changePassword', 'logoutEverywhere']);

/** The root fields an operation selects, through its fragments (`__typename` needs no rule). */
export function rootFields(operation: OperationDefinitionNode, document: DocumentNode): string[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const names = new Set<string>();
  const seen = new Set<string>();
  const walk = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment.selectionSet);
      }
    }
  };
  walk(operation.selectionSet);
  names.delete('__typename');
  return [...names];
}

function refusal(message: string, code: 'UNAUTHENTICATED' | 'FORBIDDEN', extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra, http: { status: code === 'UNAUTHENTICATED' ? 401 : 403 } } });
}

/** Why `principal` may not run these root fields of an operation, or null when it may. */
export function accessRefusal(kind: 'query' | 'mutation' | 'subscription', fields: string[], principal: Principal | null): GraphQLError | null {
  const rules = kind === 'mutation' ? ACCESS.Mutation : kind === 'query' ? ACCESS.Query : {};
  for (const field of fields) {
    // Introspection reads the schema: a signed-in reader's right.
    const rule: Access | undefined = field === '__schema' || field === '__type' ? Role.VIEWER : rules[field];
    if (rule === PUBLIC) continue;
    if (!principal) return refusal('sign in first: this request needs a session or an API token', 'UNAUTHENTICATED');
    if (principal.tokenId && SESSION_ONLY.has(field)) return refusal(`${field} needs a signed-in session: an API token cannot manage tokens, users or passwords`, 'FORBIDDEN');
    if (rule === SIGNED_IN) continue;
    if (rule === undefined) return refusal(`${field} has no access rule and is refused to everyone`, 'FORBIDDEN');
    if (!roleAllows(principal.role, rule)) {
      return refusal(`${field} needs the ${rule} role; ${principal.tokenId ? 'this token has' : 'you have'} ${principal.role}`, 'FORBIDDEN', { requiredRole: rule });
    }
  }
  return null;
}

/**
 * The Apollo plugin that applies {@link ACCESS} to every operation before it executes.
 * `onForbiddenMutation` hears of mutations a signed-in caller's role does not allow (for the audit log).
 */
export function accessPlugin<C extends { principal: Principal | null }>(
  options: { onForbiddenMutation?: (context: C, fields: string[]) => Promise<void> } = {},
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (!operation) return; // Apollo has already refused a document without the operation asked for
          const fields = rootFields(operation, document);
          const refused = accessRefusal(operation.operation, fields, contextValue.principal);
          if (!refused) return;
          if (operation.operation === 'mutation' && contextValue.principal) await options.onForbiddenMutation?.(contextValue, fields);
          throw refused;
        },
      };
    },
  };
}
