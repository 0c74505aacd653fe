import { GraphQLRequestError } from './graphql.js';
import { notify } from './notifications.svelte.js';

/**
 * The one place the app reports an error it cannot show in place: `message` says what failed,
 * the detail is the server's own message and code.
 */
export function handleError(error: unknown, message: string): void {
  if (error instanceof DOMException && error.name === 'AbortError') return; // superseded request
  if (error instanceof GraphQLRequestError) {
    notify(message, `${error.message} (${error.code})`);
  } else {
    notify(message, error instanceof Error ? error.message : String(error));
  }
}
