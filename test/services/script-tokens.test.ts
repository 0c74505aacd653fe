import { describe, expect, it } from 'vitest';
import { extractScriptTokens } from '../../api/services/script-tokens.js';

describe(extractScriptTokens.name, () => {
  it('finds UUIDs anywhere, lower-cased', () => {
    const { uuids } = extractScriptTokens('x = 1 # 3F2504E0-4F89-41D3-9A0C-0305E82C3301\nload(7c9e6679-7425-40de-944b-e07fc1f90ae7)');
    expect([...uuids].sort()).toEqual(['3f2504e0-4f89-41d3-9a0c-0305e82c3301', '7c9e6679-7425-40de-944b-e07fc1f90ae7']);
  });

  it("finds literals in '…', \"…\" and `…`, multi-line only in backticks", () => {
    const { literals } = extractScriptTokens("a = 'users'\nb = \"ORDERS <> CUSTOMERS\"\nc = `multi\nline`\nd = 'not\nthis'");
    expect(literals).toContain('users');
    expect(literals).toContain('ORDERS <> CUSTOMERS');
    expect(literals).toContain('multi\nline');
    expect(literals).not.toContain('not\nthis');
  });

  it('is not fooled by an apostrophe in a comment before the literal', () => {
    const { literals } = extractScriptTokens("# don't forget\nread('sales')\n");
    expect(literals).toContain('sales');
  });

  it('ignores empty literals and texts longer than a name can be', () => {
    const { literals } = extractScriptTokens(`x = ''\ny = '${'z'.repeat(201)}'`);
    expect([...literals].some((l) => l === '' || l.length > 200)).toBe(false);
  });
});
