import { SvelteSet } from 'svelte/reactivity';
import { GraphQLRequestError } from '../lib/graphql.js';

export interface FormError {
  /** The input field the server (or a check in the page) blames, e.g. `transform.steps[0].where`. */
  field: string | null;
  message: string;
  code: string;
}

/** What a control inside a Field needs to be labelled and described. */
export interface FieldControl {
  id: string;
  labelId: string;
  describedby: string;
  invalid: boolean;
}

export type CodeLanguage = 'json' | 'javascript' | 'python';

/** `draft.transform.steps[0]` (a preview's unsaved edit) is shown where `transform` is edited. */
const shownAs = (field: string) => field.replace(/^draft\./, '');

/** Whether an error on `field` belongs to the form field `name`: itself or a part of it. */
export function belongsTo(field: string, name: string): boolean {
  const f = shownAs(field);
  return f === name || f.startsWith(`${name}.`) || f.startsWith(`${name}[`);
}

/**
 * A form's submission state: busy while saving, and the error the server answered, shown at the
 * field it names when the form has that field (fields register themselves), else above the form.
 */
export class FormState {
  busy = $state(false);
  error = $state<FormError | null>(null);
  readonly #fields = new SvelteSet<string>();

  /** Called by each Field; returns the unregister function for its teardown. */
  register(name: string): () => void {
    this.#fields.add(name);
    return () => this.#fields.delete(name);
  }

  errorFor(name: string): string | null {
    const error = this.error;
    return error?.field != null && belongsTo(error.field, name) ? error.message : null;
  }

  /** The error no field shows (no field named, or one this form does not have). */
  get unplaced(): FormError | null {
    const error = this.error;
    if (!error) return null;
    const field = error.field;
    return field != null && [...this.#fields].some((name) => belongsTo(field, name)) ? null : error;
  }

  /** The user changed the field: its message has been answered. */
  edited(name: string): void {
    if (this.error?.field != null && belongsTo(this.error.field, name)) this.error = null;
  }

  /** Blames a field before anything is sent (a client-side check such as JSON syntax). */
  fail(field: string | null, message: string): void {
    this.error = { field, message, code: 'BAD_USER_INPUT' };
  }

  /** Runs a save; resolves with its result, or undefined after recording the error. */
  async submit<T>(action: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    this.error = null;
    try {
      return await action();
    } catch (error) {
      this.error = toFormError(error);
      return undefined;
    } finally {
      this.busy = false;
    }
  }
}

export function toFormError(error: unknown): FormError {
  if (error instanceof GraphQLRequestError) return { field: error.field ?? null, message: error.message, code: error.code };
  return { field: null, message: error instanceof Error ? error.message : String(error), code: 'ERROR' };
}

/** A JSON text's syntax problem ("Expected ',' … at line 3 column 5"), or null when it parses. */
export function jsonProblem(text: string): string | null {
  if (text.trim() === '') return null;
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    return `not valid JSON: ${(error as Error).message}`;
  }
}

/** Parses a JSON text the form checked already; blank is null. */
export const parseJson = (text: string): unknown => (text.trim() === '' ? null : JSON.parse(text));

/** "a, b ,c" → ["a", "b", "c"]. */
export const splitList = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
