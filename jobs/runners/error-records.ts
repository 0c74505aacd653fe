import { ErrorPolicy, ErrorRecordFormat, WriteMode } from '../../core/db/entities/index.js';
import type { BadRecord } from '../warehouse/files.js';
import type { DataStats, Row, Warehouse } from '../warehouse/warehouse.js';
import { RunFailedError, type ErrorHandling } from './runner.js';

/** Rejected rows kept for the error datasource at most; a run with more fails rather than grow without bound. */
const MAX_KEPT = 100_000;
const SAMPLES = 5;

/**
 * Applies an automation's error policy to rows a reader rejects: FAIL_RUN lets the reader throw,
 * DISCARD counts them, TO_DATASOURCE also keeps them (the raw line, or the fields parsed so far)
 * and appends them to the error datasource once the run's own write has committed.
 */
export class ErrorRecords {
  count = 0;
  readonly samples: string[] = [];
  private readonly kept: Row[] = [];
  private overflow = false;

  constructor(private readonly handling: ErrorHandling | undefined) {}

  /** The reader's callback for a source, or undefined under FAIL_RUN (the reader then throws). */
  handler(source: string): ((bad: BadRecord) => void) | undefined {
    const handling = this.handling;
    if (!handling || handling.policy === ErrorPolicy.FAIL_RUN) return undefined;
    return (bad) => {
      this.count += 1;
      if (this.samples.length < SAMPLES) this.samples.push(`${source}: ${bad.message}`);
      if (handling.policy !== ErrorPolicy.TO_DATASOURCE) return;
      if (this.kept.length >= MAX_KEPT) {
        this.overflow = true;
        return;
      }
      const base = { source, line: bad.line, error: bad.message };
      this.kept.push(handling.format === ErrorRecordFormat.STAGE_RECORD && bad.fields ? { ...base, ...bad.fields } : { ...base, record: bad.raw });
    };
  }

  /** Appends the kept rows to the error datasource; returns its new stats (null when there is nothing to write). */
  async flush(warehouse: Warehouse): Promise<{ datasourceId: string; stats: DataStats } | null> {
    if (this.overflow) throw new RunFailedError(`more than ${MAX_KEPT} rows were rejected; fix the source or use the error policy DISCARD`);
    const target = this.handling?.datasource;
    if (!target || this.kept.length === 0) return null;
    const write = await warehouse.openWrite(target, WriteMode.APPEND);
    try {
      await write.write(this.kept.splice(0));
      return { datasourceId: target.id, stats: await write.commit() };
    } catch (error) {
      await write.abort();
      throw error;
    }
  }
}
