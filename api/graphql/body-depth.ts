/** Deepest nesting of arrays and objects a request body may have (JSON inputs themselves stop at 32, see validation.ts). */
export const MAX_BODY_DEPTH = 64;

const [OPEN_OBJECT, OPEN_ARRAY, CLOSE_OBJECT, CLOSE_ARRAY, QUOTE, BACKSLASH] = ['{', '[', '}', ']', '"', '\\'].map((c) => c.charCodeAt(0));

/** A body nested deeper than {@link MAX_BODY_DEPTH}: refused before it is parsed. */
export class BodyTooDeepError extends Error {
  readonly status = 400;
  readonly type = 'entity.too.deep';
  constructor() {
    super(`the request body nests JSON more than ${MAX_BODY_DEPTH} levels deep`);
    this.name = 'BodyTooDeepError';
  }
}

/**
 * express.json's `verify` hook: one pass over the raw bytes, before JSON.parse sees them. A 4 MB
 * body of brackets nests two million levels, which JSON.parse takes seconds to build on the event
 * loop, stalling every other request; this scan takes milliseconds and refuses it.
 */
export function refuseDeepBodies(_req: unknown, _res: unknown, body: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth > MAX_BODY_DEPTH) throw new BodyTooDeepError();
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--;
    }
  }
}

/** Longest operationName accepted: Apollo repeats an unknown one in its error, so a 3 MB name made a 3 MB answer. */
export const MAX_OPERATION_NAME = 256;

/** Express middleware after the JSON parser: refuses an oversized operationName with BAD_USER_INPUT. */
export function refuseLongOperationNames(req: { body?: unknown }, res: { status(code: number): { json(body: unknown): void } }, next: () => void): void {
  const name = (req.body as { operationName?: unknown } | undefined)?.operationName;
  if (typeof name === 'string' && name.length > MAX_OPERATION_NAME) {
    res.status(400).json({ errors: [{ message: `operationName is ${name.length} characters long; the limit is ${MAX_OPERATION_NAME}`, extensions: { code: 'BAD_USER_INPUT', field: 'operationName' } }] });
    return;
  }
  next();
}
