/** A dependent object that blocks a deletion, as reported in `extensions.dependents`. */
export interface DependentInfo {
  id: string;
  name: string;
  type: string;
  reason: string;
}

/**
 * Base of every error we raise on purpose: a fixed `code` and a message that is safe to show to
 * clients, plus `details` (the field, the dependents, the reason…). Transport-free: the GraphQL
 * edge (api/graphql/errors.ts) turns them into `extensions: { code, ...details }`.
 */
export abstract class DomainError extends Error {
  constructor(message: string, readonly code: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
  }
}

/** Invalid input; `field` names the offending input field (e.g. `name`, `join.leftKey`). */
export class BadUserInputError extends DomainError {
  constructor(readonly field: string, message: string) {
    super(message, 'BAD_USER_INPUT', { field });
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string, field?: string) {
    super(`${what} ${JSON.stringify(id)} does not exist`, 'NOT_FOUND', field ? { field } : {});
  }
}

/** A uniqueness clash, typically a duplicate name. */
export class ConflictError extends DomainError {
  constructor(readonly field: string, message: string, details: Record<string, unknown> = {}) {
    super(message, 'CONFLICT', { field, ...details });
  }
}

export class DatasourceInUseError extends DomainError {
  constructor(name: string, dependents: DependentInfo[]) {
    super(
      `Datasource "${name}" is used by ${dependents.length} object(s) and cannot be deleted: ` +
        dependents.map((d) => `${d.name} (${d.reason})`).join(', '),
      'DATASOURCE_IN_USE',
      { dependents },
    );
  }
}

export class AutomationInUseError extends DomainError {
  constructor(name: string, dependents: DependentInfo[]) {
    super(
      `Automation "${name}" is triggered by ${dependents.length} chain task(s) and cannot be deleted: ` +
        dependents.map((d) => d.name).join(', '),
      'AUTOMATION_IN_USE',
      { dependents },
    );
  }
}

/**
 * Why a read or preview was stopped, in `extensions.reason`: `TIMEOUT` (it took longer than
 * QUERY_TIMEOUT_MS), `BUSY` (no turn came in time; retry), `TOO_LARGE` (one row is more than an
 * answer may carry), `FILE_REFUSED` (the FILE datasource's path is outside FILE_ROOTS, not a
 * regular file, or one of Tributary's own files).
 */
export type StopReason = 'TIMEOUT' | 'BUSY' | 'TOO_LARGE' | 'FILE_REFUSED';

/** A datasource's data cannot be read now (its file is missing or unreadable, the read took too long…). */
export class DataUnavailableError extends DomainError {
  constructor(message: string, reason?: StopReason) {
    super(message, 'DATA_UNAVAILABLE', reason ? { reason } : {});
  }
}

/** A preview could not run: the message says why (missing input data, the script failed, the time limit…). */
export class PreviewFailedError extends DomainError {
  constructor(message: string, reason?: StopReason) {
    super(message, 'PREVIEW_FAILED', reason ? { reason } : {});
  }
}

/** No valid session or token came with the request (or a login failed): nothing ran. */
export class UnauthenticatedError extends DomainError {
  constructor(message = 'sign in first: this request needs a session or an API token', details: Record<string, unknown> = {}) {
    super(message, 'UNAUTHENTICATED', details);
  }
}

/** The caller is known but their role does not allow this: `extensions.requiredRole` names the role it needs. */
export class ForbiddenError extends DomainError {
  constructor(message: string, requiredRole?: string) {
    super(message, 'FORBIDDEN', requiredRole ? { requiredRole } : {});
  }
}
