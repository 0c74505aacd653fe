import type { DatasourceSpec, ReadOptions, Row, RowPage } from './warehouse.js';
import type { FileRoots } from './file-roots.js';
import { readFileRows } from './files.js';
import { AnswerTooLargeError, capRows, rowBytes } from './limits.js';

/**
 * A page of a FILE datasource, read straight from the file (checked against FILE_ROOTS and opened
 * now), in file order with an offset cursor; the same in every warehouse. Reading stops at
 * `first` + 1 rows, or once the rows kept are over `maxBytes`: memory stays bounded.
 */
export async function pageFile(files: FileRoots, ds: DatasourceSpec, first: number, after: string | null | undefined, options: ReadOptions = {}): Promise<RowPage> {
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const offset = after ? Number(Buffer.from(after, 'base64url').toString()) : 0;
  const rows: Row[] = [];
  let columns: string[] = [];
  const handle = await files.open(ds.path!);
  try {
    let seen = 0;
    let bytes = 0;
    const full = () => rows.length > first || bytes > maxBytes;
    for await (const batch of readFileRows(ds.path!, { handle, signal: options.signal })) {
      if (columns.length === 0 && batch[0]) columns = Object.keys(batch[0]);
      for (const row of batch) {
        if (seen++ < offset) continue;
        rows.push(row);
        if (Number.isFinite(maxBytes)) bytes += rowBytes(row) + 1;
        if (full()) break;
      }
      if (full()) break;
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  const total = rows.length;
  const { rows: kept } = capRows(rows.slice(0, first), maxBytes, true);
  if (kept.length === 0 && total > 0 && first > 0) throw new AnswerTooLargeError(rowBytes(rows[0]!), maxBytes);
  const more = total > kept.length;
  return { columns, rows: kept, endCursor: more ? Buffer.from(String(offset + kept.length)).toString('base64url') : null };
}
