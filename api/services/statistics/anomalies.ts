/** One ingestion's hours, dense (an hour without runs has zero rows and runs). */
export interface HourPoint {
  hour: Date;
  rows: number;
  runs: number;
  failedRuns: number;
  durationMs: number;
  maxDurationMs: number;
}

export type AnomalyKind = 'ROWS' | 'ZERO_ROWS' | 'SLOW_RUN';

export interface Anomaly {
  kind: AnomalyKind;
  message: string;
}

/** Days of the same hour a baseline looks back over, and how many of them it needs. */
export const BASELINE_DAYS = 7;
const MIN_SAMPLES = 3;
const HOUR = 3_600_000;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : String(Math.round(n * 10) / 10));
const seconds = (ms: number) => `${round(ms / 1000)} s`;

/**
 * What is unusual about `point`, judged against the same hour of the days before (`history` holds
 * them, by hour start, from `since`, the series' first recorded hour): rows far from that hour's
 * usual count (more than three standard deviations and half the mean away), no rows where there
 * usually are some, a run far slower (three times) than this ingestion's usual run of the week.
 */
export function anomaliesOf(point: HourPoint, history: Map<number, HourPoint>, since: number): Anomaly[] {
  const found: Anomaly[] = [];
  const samples: number[] = [];
  for (let day = 1; day <= BASELINE_DAYS; day += 1) {
    const at = point.hour.getTime() - day * 24 * HOUR;
    if (at < since) break;
    samples.push(history.get(at)?.rows ?? 0);
  }
  if (samples.length >= MIN_SAMPLES) {
    const usual = mean(samples);
    const spread = Math.sqrt(mean(samples.map((x) => (x - usual) ** 2)));
    const withRows = samples.filter((x) => x > 0).length;
    if (point.rows === 0 && withRows / samples.length >= 0.75) {
      found.push({ kind: 'ZERO_ROWS', message: `no rows this hour; usually about ${round(usual)} (${withRows} of the last ${samples.length} days had some)` });
    } else if (point.rows > 0 && usual > 0 && Math.abs(point.rows - usual) > Math.max(3 * spread, 0.5 * usual)) {
      const ratio = point.rows / usual;
      found.push({ kind: 'ROWS', message: `${round(point.rows)} rows: ${ratio >= 1 ? `${round(ratio)}× more` : `${round(1 / ratio)}× fewer`} than the usual ${round(usual)} at this hour` });
    }
  }
  if (point.runs > 0) {
    // The week's hours before this one, looked up one by one: the work stays the same however long the history is.
    const durations: number[] = [];
    for (let back = 1; back <= BASELINE_DAYS * 24; back += 1) {
      const h = history.get(point.hour.getTime() - back * HOUR);
      if (h && h.runs > 0) durations.push(h.durationMs / h.runs);
    }
    if (durations.length >= MIN_SAMPLES) {
      const usual = median(durations);
      if (point.maxDurationMs > 3 * usual && point.maxDurationMs - usual > 1_000) {
        found.push({ kind: 'SLOW_RUN', message: `a run took ${seconds(point.maxDurationMs)}, ${round(point.maxDurationMs / Math.max(usual, 1))}× the usual ${seconds(usual)}` });
      }
    }
  }
  return found;
}
