import { GraphQLError } from 'graphql';
import { DomainError } from '../../core/errors.js';

/** The domain error behind a GraphQL error (resolvers' errors arrive wrapped), if it is one. */
export function domainErrorOf(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (error instanceof GraphQLError && error.originalError instanceof DomainError) return error.originalError;
  return undefined;
}

/** A domain error as clients see it: its message and `extensions: { code, ...details }`. */
export function domainExtensions(error: DomainError): Record<string, unknown> {
  return { code: error.code, ...error.details };
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
