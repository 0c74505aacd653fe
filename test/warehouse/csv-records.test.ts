import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { FileRowError, MAX_RECORD_BYTES, strictCsvRecords } from '../../jobs/warehouse/csv-records.js';
import { readFileValues } from '../../jobs/warehouse/files.js';

/** The text in chunks of `size` characters, as a file is read. */
const chunked = (text: string, size: number) =>
  async function* () {
    for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
  };

async function fast(text: string, size = 7): Promise<{ records: string[][] } | { error: string }> {
  const records: string[][] = [];
  try {
    for await (const group of strictCsvRecords(chunked(text, size))) records.push(...group);
    return { records };
  } catch (error) {
    if (!(error instanceof FileRowError)) throw error;
    return { error: error.message };
  }
}

/** csv-parse alone, with the strict settings every CSV file is read with: the reference. */
function reference(text: string): { records: string[][] } | { error: string } {
  try {
    return { records: parse(text, { bom: true, skip_empty_lines: true, max_record_size: MAX_RECORD_BYTES }) as string[][] };
  } catch (error) {
    const info = error as { lines?: number; message: string };
    return { error: `line ${info.lines}: ${info.message}` };
  }
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const PIECES = ['a', 'bc', '12', '-3.5', '007', '', ' ', 'x y', '"', '""', '"q"', '"a,b"', '"l1\nl2"', 'é', '€', '\r', ',', '\uFEFF'];

function randomCsv(next: () => number): string {
  const width = 1 + Math.floor(next() * 4);
  const crlf = next() < 0.4;
  const lines: string[] = [];
  const count = 1 + Math.floor(next() * 8);
  for (let i = 0; i < count; i++) {
    const fields = width + (next() < 0.1 ? (next() < 0.5 ? -1 : 1) : 0);
    const values = Array.from({ length: Math.max(0, fields) }, () => (next() < 0.15 ? PIECES[Math.floor(next() * PIECES.length)]! : `v${Math.floor(next() * 100)}`));
    lines.push(next() < 0.05 ? '' : values.join(','));
  }
  const end = crlf ? (next() < 0.1 ? '\n' : '\r\n') : '\n';
  return (next() < 0.1 ? '\uFEFF' : '') + lines.join(end) + (next() < 0.5 ? end : '');
}

describe('strictCsvRecords', () => {
  it('splits plain LF and CRLF files as csv-parse does, across chunk boundaries', async () => {
    const text = 'id,name,price\n1,a,1.5\n\n2,b,\n3,,7\n';
    expect(await fast(text)).toEqual(reference(text));
    expect(await fast(text.replaceAll('\n', '\r\n'), 3)).toEqual(reference(text.replaceAll('\n', '\r\n')));
    expect(await fast('\uFEFFa,b\n1,2')).toEqual({
      records: [
        ['a', 'b'],
        ['1', '2'],
      ],
    });
  });

  it('hands a file to csv-parse from the first quoted line on, keeping the records already given once', async () => {
    const plain = Array.from({ length: 50 }, (_, i) => `${i},n${i}`).join('\n');
    const text = `id,name\n${plain}\n51,"with, comma"\n52,"two\nlines"\n53,z\n`;
    const result = await fast(text, 64);
    expect(result).toEqual(reference(text));
    expect((result as { records: string[][] }).records).toHaveLength(54);
  });

  it('fails where csv-parse fails, with its message and line: a short record after plain ones, an unclosed quote', async () => {
    const short = 'a,b\n1,2\n3\n4,5\n';
    expect(await fast(short)).toEqual({ error: 'line 3: Invalid Record Length: expect 2, got 1 on line 3' });
    expect(await fast(short)).toEqual(reference(short));
    const unclosed = 'a,b\n1,2\n3,"open\n4,5\n';
    expect(await fast(unclosed)).toEqual(reference(unclosed));
    expect('error' in (await fast(unclosed))).toBe(true);
  });

  it('agrees with csv-parse on 3,000 generated files: quotes, stray carriage returns, BOMs, empty lines, wrong widths', async () => {
    const next = random(17);
    let errors = 0;
    for (let i = 0; i < 3_000; i++) {
      const text = randomCsv(next);
      const expected = reference(text);
      if ('error' in expected) errors += 1;
      expect({ text, result: await fast(text, 1 + Math.floor(next() * 12)) }).toEqual({ text, result: expected });
    }
    expect(errors).toBeGreaterThan(100); // the generator does make bad files, so both paths are compared
  });

  it('reads a file of characters split between chunks as csv-parse reads its text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-csv-'));
    try {
      const values = ['€uro', 'naïve', '😀 smile', '中文字段', 'plain'];
      const lines = Array.from({ length: 40_000 }, (_, i) => `${values[i % 5]}${i},${values[(i + 2) % 5]}`);
      const text = `名前,word\n${lines.join('\n')}\n`;
      const path = join(dir, 'wide.csv');
      writeFileSync(path, text);
      expect(Buffer.byteLength(text)).toBeGreaterThan(3 * 256 * 1024); // several reads, boundaries inside characters
      const read: unknown[][] = [];
      let columns: string[] = [];
      for await (const batch of readFileValues(path, { batchSize: 7_000 })) {
        columns = batch.columns;
        read.push(...batch.values);
      }
      const expected = reference(text) as { records: string[][] };
      expect(columns).toEqual(expected.records[0]);
      expect(read).toEqual(expected.records.slice(1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

