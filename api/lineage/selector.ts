import { LineageNodeType, RunStatus } from '../../core/enums.js';
import { BadUserInputError } from '../../core/errors.js';

/** What a selector part matches before its graph operators are applied. */
export type SelectorAtom =
  | { type: 'name'; name: string; position: number }
  | { type: 'kind'; value: string; position: number } // normalised LineageNodeType
  | { type: 'tag'; value: string; position: number }
  | { type: 'status'; value: string; position: number } // normalised RunStatus or 'NEVER'
  | { type: 'scheduled'; value: boolean; position: number };

/** One selector part: an atom with its graph operators. Positions are 1-based indexes into the text. */
export interface SelectorTerm {
  atom: SelectorAtom;
  position: number;
  /** `@x`: x, its downstream, and the upstream of all of those. */
  at: boolean;
  /** Upstream hops: undefined = no upstream operator, null = unlimited (`+x`), n = `n+x`. */
  upstream?: number | null;
  /** Downstream hops: undefined = none, null = unlimited (`x+`), n = `x+n`. */
  downstream?: number | null;
}

/** Union (outer) of intersections (inner). */
export type SelectorExpr = SelectorTerm[][];

/** A selection that cannot be parsed (or evaluated); `position` is the 1-based index of the offending character. */
export class SelectorError extends BadUserInputError {
  constructor(
    readonly position: number,
    readonly reason: string,
    field = 'filter.select',
  ) {
    super(field, `${reason} at position ${position}`);
  }

  /** The same problem, in a selection given in another field (`filter.exclude`). */
  in(field: string): SelectorError {
    return new SelectorError(this.position, this.reason, field);
  }
}

const MAX_LENGTH = 10_000;
const MAX_DEPTH = 1000;
const KINDS: readonly string[] = Object.values(LineageNodeType);
const KIND_ALIASES = new Map<string, string>([
  ['JOIN', LineageNodeType.JOIN_DATASOURCE],
  ['EXTERNAL', LineageNodeType.EXTERNAL_DATASOURCE],
]);
const STATUSES: readonly string[] = Object.values(RunStatus);
const KEYS = new Set(['name', 'kind', 'tag', 'status', 'scheduled']);
const EXAMPLES: Record<string, string> = {
  name: 'name:orders',
  kind: 'kind:ETL_STEP',
  tag: 'tag:finance',
  status: 'status:FAILED',
  scheduled: 'scheduled:true',
};
const AT_WITH_PLUS = "'@' cannot be combined with '+' (@orders already includes everything downstream of orders and everything upstream of those)";

/**
 * Parses a lineage selection such as `+orders kind:ETL_STEP,tag:finance @"ORDERS <> CUSTOMERS"`.
 *
 * Whitespace-separated groups are a union; comma-separated parts within a group are an intersection.
 * A part is `[@ | N+ | +] atom [+ | +N]`, where the atom is a name (bare, or quoted with `"` or `'`,
 * in which `\` escapes the quote character or a backslash) or `key:value` with key `kind`, `tag`,
 * `status`, `scheduled` or `name`. Positions count UTF-16 code units, as JavaScript strings do.
 *
 * @throws SelectorError pointing at the first problem.
 */
export function parseSelector(text: string): SelectorExpr {
  if (text.length > MAX_LENGTH) {
    throw new SelectorError(MAX_LENGTH + 1, `selection is too long (${text.length} characters, at most ${MAX_LENGTH} are allowed)`);
  }
  return new Scanner(text).parse();
}

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);
const isQuote = (ch: string | undefined): ch is '"' | "'" => ch === '"' || ch === "'";
/** Ends a bare word: whitespace, a comma, a quote or the end of the text. */
const endsWord = (ch: string | undefined): boolean => ch === undefined || ch === ',' || isQuote(ch) || isSpace(ch);
const shown = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** A `+` operator as written: where its number starts (0-based) and the digits, '' for unlimited. */
interface Hops {
  index: number;
  digits: string;
}

class Scanner {
  private i = 0;

  constructor(private readonly text: string) {}

  parse(): SelectorExpr {
    const union: SelectorExpr = [];
    this.skipSpace();
    if (this.i === this.text.length) {
      throw new SelectorError(1, 'empty selection; give a name such as orders or an attribute such as kind:ETL_STEP');
    }
    while (this.i < this.text.length) {
      const group = [this.term(null)];
      for (;;) {
        this.skipSpace();
        if (this.text[this.i] !== ',') break;
        const comma = this.i++;
        this.skipSpace(); // `a , b` is the same as `a,b`
        group.push(this.term(comma));
      }
      union.push(group);
    }
    return union;
  }

  /** One part; `comma` is the index of the comma before it, if any, to explain a missing part. */
  private term(comma: number | null): SelectorTerm {
    const start = this.i;
    const first = this.text[start];
    if (first === undefined) throw new SelectorError(comma! + 1, "nothing follows the trailing ','; remove it or add a selector after it");
    if (first === ',') {
      throw new SelectorError(start + 1, comma === null ? "missing selector before ','" : "missing selector between two commas; remove one of them");
    }

    let at = false;
    let upstream: number | null | undefined;
    if (first === '@') {
      at = true;
      this.i++;
      if (this.upstreamHops()) throw new SelectorError(this.i + 1, AT_WITH_PLUS);
    } else {
      const hops = this.upstreamHops();
      if (hops) {
        upstream = this.depth(hops);
        this.i += hops.digits.length + 1;
      }
    }

    const atomStart = this.i;
    const next = this.text[atomStart];
    if (next === '@') throw new SelectorError(atomStart + 1, at ? "'@' is repeated; write it once, e.g. @orders" : AT_WITH_PLUS);
    if (atomStart > start && (next === undefined || next === ',' || isSpace(next))) this.missingAtom(start, atomStart);

    let atom: SelectorAtom;
    let downstream: Hops | undefined;
    if (isQuote(next)) {
      const name = this.quoted();
      if (name === '') throw new SelectorError(atomStart + 1, 'empty name ""; write the name between the quotes');
      atom = { type: 'name', name, position: atomStart + 1 };
      downstream = this.hopsAfterQuote();
    } else {
      while (!endsWord(this.text[this.i])) this.i++;
      let word = this.text.slice(atomStart, this.i);
      if (isQuote(this.text[this.i])) {
        // Only `key:"value"` may continue a bare word with a quote.
        const colon = word.indexOf(':');
        if (colon !== word.length - 1 || !KEYS.has(word.slice(0, colon).toLowerCase())) {
          throw new SelectorError(
            this.i + 1,
            'unexpected quote inside a name; quote the whole name, e.g. "ORDERS <> CUSTOMERS", or the whole value of an attribute, e.g. tag:"needs review"',
          );
        }
        const valueStart = this.i;
        atom = this.attribute(word.slice(0, colon), this.quoted(), atomStart, valueStart);
        downstream = this.hopsAfterQuote();
      } else {
        const suffix = /\+(\d*)$/.exec(word);
        if (suffix) {
          downstream = { index: atomStart + suffix.index + 1, digits: suffix[1]! };
          word = word.slice(0, suffix.index);
        }
        if (word === '') this.missingAtom(start, atomStart); // e.g. `++`
        atom = this.bareAtom(word, atomStart);
      }
    }

    if (at && downstream) throw new SelectorError(downstream.index, AT_WITH_PLUS); // 0-based digits start = 1-based '+'
    const term: SelectorTerm = { atom, position: start + 1, at };
    if (upstream !== undefined) term.upstream = upstream;
    if (downstream) term.downstream = this.depth(downstream);
    return term;
  }

  private skipSpace(): void {
    while (isSpace(this.text[this.i])) this.i++;
  }

  /** A `digits*+` upstream operator at the cursor, without consuming it. */
  private upstreamHops(): Hops | undefined {
    const match = /(\d*)\+/y;
    match.lastIndex = this.i;
    const m = match.exec(this.text);
    return m ? { index: this.i, digits: m[1]! } : undefined;
  }

  /** The optional `+` / `+N` right after a closing quote, which must then end the part. */
  private hopsAfterQuote(): Hops | undefined {
    let hops: Hops | undefined;
    if (this.text[this.i] === '+') {
      hops = { index: ++this.i, digits: '' };
      while (/\d/.test(this.text[this.i] ?? '')) hops.digits += this.text[this.i++];
    }
    const ch = this.text[this.i];
    if (ch !== undefined && ch !== ',' && !isSpace(ch)) {
      throw new SelectorError(this.i + 1, `unexpected '${ch}' after the closing quote; put a space or a comma between selectors, or quote the whole name`);
    }
    return hops;
  }

  /** Null for unlimited hops; throws when the number is outside 1..MAX_DEPTH. */
  private depth(hops: Hops): number | null {
    if (hops.digits === '') return null;
    const depth = Number(hops.digits);
    if (depth < 1 || depth > MAX_DEPTH) {
      throw new SelectorError(hops.index + 1, `depth ${shown(hops.digits)} is out of range; use 1 to ${MAX_DEPTH} hops, or no number for unlimited`);
    }
    return depth;
  }

  private missingAtom(start: number, atomStart: number): never {
    const op = this.text.slice(start, atomStart);
    throw new SelectorError(start + 1, `'${op}' must be followed by a name or an attribute without a space, e.g. ${op}orders`);
  }

  /** The text of the quoted string at the cursor; leaves the cursor after the closing quote. */
  private quoted(): string {
    const open = this.i;
    const quote = this.text[open]!;
    let value = '';
    for (let j = open + 1; j < this.text.length; j++) {
      const ch = this.text[j]!;
      if (ch === quote) {
        this.i = j + 1;
        return value;
      }
      const escaped = this.text[j + 1];
      if (ch === '\\' && (escaped === quote || escaped === '\\')) {
        value += escaped;
        j++;
      } else {
        value += ch; // any other backslash is literal, e.g. 'C:\data'
      }
    }
    throw new SelectorError(open + 1, `unterminated quote; add the closing ${quote} (write \\${quote} for a ${quote} inside the name)`);
  }

  /** A bare word: `key:value` for a known key, otherwise a name (so `db:orders` is a name). */
  private bareAtom(word: string, atomStart: number): SelectorAtom {
    const colon = word.indexOf(':');
    if (colon > 0 && KEYS.has(word.slice(0, colon).toLowerCase())) {
      return this.attribute(word.slice(0, colon), word.slice(colon + 1), atomStart, atomStart + colon + 1);
    }
    return { type: 'name', name: word, position: atomStart + 1 };
  }

  /** Validates and normalises `key:value`; indexes are 0-based. */
  private attribute(key: string, value: string, atomStart: number, valueStart: number): SelectorAtom {
    const type = key.toLowerCase();
    const position = atomStart + 1;
    const fail = (message: string): never => {
      throw new SelectorError(valueStart + 1, message);
    };
    if (value === '') fail(`'${key}:' needs a value, e.g. ${EXAMPLES[type]}`);
    switch (type) {
      case 'name':
        return { type: 'name', name: value, position };
      case 'tag':
        return { type: 'tag', value, position };
      case 'kind': {
        const upper = value.toUpperCase();
        const kind = KIND_ALIASES.get(upper) ?? (KINDS.includes(upper) ? upper : undefined);
        return kind !== undefined
          ? { type: 'kind', value: kind, position }
          : fail(`unknown kind ${shown(value)}; use one of ${KINDS.join(', ')} (or JOIN for JOIN_DATASOURCE, EXTERNAL for EXTERNAL_DATASOURCE)`);
      }
      case 'status': {
        const upper = value.toUpperCase();
        return STATUSES.includes(upper) || upper === 'NEVER'
          ? { type: 'status', value: upper, position }
          : fail(`unknown status ${shown(value)}; use one of ${STATUSES.join(', ')}, or NEVER for never run`);
      }
      default: {
        const lower = value.toLowerCase();
        return lower === 'true' || lower === 'false'
          ? { type: 'scheduled', value: lower === 'true', position }
          : fail(`scheduled must be true or false, not ${shown(value)}`);
      }
    }
  }
}
