import { GraphQLError } from 'graphql';

/** A dependent object that blocks a deletion, as reported in `extensions.dependents`. */
export interface DependentInfo {
  id: string;
  name: string;
  type: string;
  reason: string;
}

/** Base of every error we raise on purpose: a fixed `extensions.code`, safe to show to clients. */
export abstract class AppError extends GraphQLError {
  constructor(message: string, code: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions } });
  }
}

/** Invalid input; `field` names the offending input field (e.g. `name`, `join.leftKey`). */
export class BadUserInputError extends AppError {
  constructor(readonly field: string, message: string) {
    super(message, 'BAD_USER_INPUT', { field });
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string, field?: string) {
    super(`${what} ${JSON.stringify(id)} does not exist`, 'NOT_FOUND', field ? { field } : {});
  }
}

/** A uniqueness clash, typically a duplicate name. */
export class ConflictError extends AppError {
  constructor(readonly field: string, message: string) {
    super(message, 'CONFLICT', { field });
  }
}

export class DatasourceInUseError extends AppError {
  constructor(name: string, dependents: DependentInfo[]) {
    super(
      `Datasource "${name}" is used by ${dependents.length} object(s) and cannot be deleted: ` +
        dependents.map((d) => `${d.name} (${d.reason})`).join(', '),
      'DATASOURCE_IN_USE',
      { dependents },
    );
  }
}

export class AutomationInUseError extends AppError {
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
export class DataUnavailableError extends AppError {
  constructor(message: string, reason?: StopReason) {
    super(message, 'DATA_UNAVAILABLE', reason ? { reason } : {});
  }
}

/** A preview could not run: the message says why (missing input data, the script failed, the time limit…). */
export class PreviewFailedError extends AppError {
  constructor(message: string, reason?: StopReason) {
    super(message, 'PREVIEW_FAILED', reason ? { reason } : {});
  }
}

/**
 * The input field a GraphQL variable coercion error is about, as our own errors name fields:
 * `Variable "$input" got invalid value "abc" at "input.port"; …` → `port`;
 * `… Field "username" of required type "String!" was not provided.` → `username`;
 * a top-level argument's variable → its name. Undefined when the message is not one of these.
 */
export function coercionErrorField(message: string): string | undefined {
  const variable = /^Variable "\$(\w+)" got invalid value /.exec(message)?.[1];
  if (!variable) return undefined;
  const at = / at "([\w.[\]]+)"; /.exec(message)?.[1];
  const path = at ? at.split('.').slice(1) : [];
  const missing = /Field "(\w+)" of required type "[^"]+" was not provided\.$/.exec(message)?.[1];
  if (missing) path.push(missing);
  return path.length > 0 ? path.join('.') : variable;
}
