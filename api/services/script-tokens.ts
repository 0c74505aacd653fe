import type { EntityManager } from '@mikro-orm/knex';
import { ScriptToken, ScriptTokenKind, type Script } from '../../core/db/entities/index.js';
import { BadUserInputError } from '../../core/errors.js';
import { LIMITS } from '../../core/validation.js';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const QUOTES = ["'", '"', '`'] as const;
/** A literal may contain up to this many of its own quote character (names rarely hold quotes at all). */
const MAX_INNER_QUOTES = 7;
/** More distinct tokens than this means the code is not a script a person maintains. */
export const MAX_SCRIPT_TOKENS = 200_000;

export interface ScriptTokens {
  uuids: Set<string>;
  literals: Set<string>;
}

/**
 * What a script's code may reference: every UUID (lower-cased) and every text that appears
 * between two equal quotes ('…', "…" or `…`), 1–200 characters long, single-line except in
 * backticks. This is the substring rule "the name appears as a quoted string literal",
 * enumerated once at save time so a deletion check is an indexed lookup.
 */
export function extractScriptTokens(code: string): ScriptTokens {
  const uuids = new Set<string>();
  for (const match of code.matchAll(UUID)) uuids.add(match[0].toLowerCase());

  const literals = new Set<string>();
  for (const quote of QUOTES) {
    const positions: number[] = [];
    for (let i = code.indexOf(quote); i !== -1; i = code.indexOf(quote, i + 1)) positions.push(i);
    for (let a = 0; a < positions.length; a++) {
      const start = positions[a]! + 1;
      for (let b = a + 1; b < positions.length && b <= a + 1 + MAX_INNER_QUOTES; b++) {
        const length = positions[b]! - start;
        if (length > LIMITS.name) break;
        if (length === 0) continue;
        const text = code.slice(start, positions[b]);
        if (quote !== '`' && text.includes('\n')) break;
        literals.add(text);
      }
    }
  }
  return { uuids, literals };
}

/** The index rows of a script's code (what {@link indexScriptTokens} writes); too many tokens is a BAD_USER_INPUT on `code`. */
export function scriptTokenRows(scriptId: string, code: string): { script: string; kind: ScriptTokenKind; token: string }[] {
  const { uuids, literals } = extractScriptTokens(code);
  if (uuids.size + literals.size > MAX_SCRIPT_TOKENS) {
    throw new BadUserInputError('code', `code holds more than ${MAX_SCRIPT_TOKENS} distinct string literals; split it into smaller scripts`);
  }
  return [
    ...[...uuids].map((token) => ({ script: scriptId, kind: ScriptTokenKind.UUID, token })),
    ...[...literals].map((token) => ({ script: scriptId, kind: ScriptTokenKind.LITERAL, token })),
  ];
}

/** Re-indexes the UUIDs and string literals of a script's code for the deletion check. */
export async function indexScriptTokens(em: EntityManager, script: Script): Promise<void> {
  const rows = scriptTokenRows(script.id, script.code);
  await em.nativeDelete(ScriptToken, { script: script.id });
  await em.flush(); // the script row must exist before its tokens reference it
  for (let i = 0; i < rows.length; i += 5_000) await em.insertMany(ScriptToken, rows.slice(i, i + 5_000));
}
