/** A GraphQL error as the server sends it (API.md: every error carries `extensions.code`). */
export interface GraphQLErrorPayload {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string } & Record<string, unknown>;
}

/** A failed request: the first error's message, code and field, with every error kept. */
export class GraphQLRequestError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(readonly errors: GraphQLErrorPayload[], readonly status: number) {
    super(errors[0]?.message ?? `request failed with HTTP ${status}`);
    this.name = 'GraphQLRequestError';
    this.code = errors[0]?.extensions?.code ?? (status === 0 ? 'NETWORK_ERROR' : `HTTP_${status}`);
    this.field = errors[0]?.extensions?.field;
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: GraphQLErrorPayload[];
}

let onSignedOut: (() => void) | undefined;

/** What to do when the server answers 401 (no valid session): the app sends the user to the login page. */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

/** POSTs one operation to /graphql; resolves with `data`, rejects with a GraphQLRequestError. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new GraphQLRequestError([{ message: `cannot reach the server: ${(error as Error).message}`, extensions: { code: 'NETWORK_ERROR' } }], 0);
  }
  let body: GraphQLResponse<T>;
  try {
    body = (await response.json()) as GraphQLResponse<T>;
  } catch {
    throw new GraphQLRequestError([], response.status);
  }
  if (response.status === 401) onSignedOut?.();
  if (body.errors?.length) throw new GraphQLRequestError(body.errors, response.status);
  if (!response.ok || body.data == null) throw new GraphQLRequestError([], response.status);
  return body.data;
}
