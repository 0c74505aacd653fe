import type { LineageNodeType, RunStatus, ScriptLanguage } from './lineage.js';

/** Colours of the visual encoding (ARCHITECTURE.md, "Visual encoding of the graph"). */
export const COLORS = {
  datasource: '#2f6fdb',
  join: '#f2c230',
  etl: '#2e9e5b',
  sftp: '#8a4fd0',
  database: '#7048b8',
  script: '#2e9e5b',
  chain: '#6b7280',
  /** Known from OpenLineage events: a teal family apart from Tributary's own colours. */
  externalJob: '#0f766e',
  externalDataset: '#14b8a6',
  /** An edge only runs have shown (observed lineage, undeclared). */
  observed: '#6366f1',
  scheduled: '#f08c00',
  success: '#1f9d55',
  failed: '#d93025',
} as const;

const GLYPHS: Record<Exclude<LineageNodeType, 'SCRIPT'>, string> = {
  // database cylinder
  DATASOURCE:
    '<g fill="none" stroke="#fff" stroke-width="3"><ellipse cx="32" cy="22" rx="12" ry="5"/><path d="M20 22v20c0 2.8 5.4 5 12 5s12-2.2 12-5V22"/><path d="M20 32c0 2.8 5.4 5 12 5s12-2.2 12-5"/></g>',
  // bow tie ⋈
  JOIN_DATASOURCE: '<path d="M19 21l26 22V21L19 43z" fill="none" stroke="#3b2f00" stroke-width="3" stroke-linejoin="round"/>',
  // transform arrow
  ETL_STEP: '<g fill="none" stroke="#fff" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round"><path d="M18 32h26"/><path d="M36 23l9 9-9 9"/></g>',
  // download into a tray
  SFTP_IMPORT: '<g fill="none" stroke="#fff" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round"><path d="M32 17v19"/><path d="M24 29l8 8 8-8"/><path d="M19 40v5h26v-5"/></g>',
  // a table pulled in: cylinder with an arrow
  DATABASE_TABLE:
    '<g fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"><ellipse cx="26" cy="22" rx="9" ry="4"/><path d="M17 22v18c0 2.2 4 4 9 4s9-1.8 9-4V22"/><path d="M38 32h10"/><path d="M44 27l5 5-5 5"/></g>',
  // a box with an arrow leaving it: a job that runs elsewhere
  EXTERNAL_JOB:
    '<g fill="none" stroke="#fff" stroke-width="3.2" stroke-linecap="round" stroke-linejoin="round"><path d="M36 19H19v26h26V28"/><path d="M30 34l16-16"/><path d="M37 18h9v9"/></g>',
  // a cylinder with a dashed outline: data kept elsewhere
  EXTERNAL_DATASOURCE:
    '<g fill="none" stroke="#fff" stroke-width="3" stroke-dasharray="4 3"><ellipse cx="32" cy="22" rx="12" ry="5"/><path d="M20 22v20c0 2.8 5.4 5 12 5s12-2.2 12-5V22"/></g>',
  // chain links
  CHAIN_TASK: '<g fill="none" stroke="#fff" stroke-width="3.5"><rect x="15" y="26" width="18" height="12" rx="6"/><rect x="31" y="26" width="18" height="12" rx="6"/></g>',
};

const LANGUAGE_LABEL: Record<ScriptLanguage, string> = { PYTHON: 'Py', JAVASCRIPT: 'JS' };

const CLOCK_BADGE = `<g><circle cx="12" cy="12" r="11" fill="${COLORS.scheduled}" stroke="#fff" stroke-width="2"/><path d="M12 5.5V12l4.5 3" fill="none" stroke="#fff" stroke-width="2.6" stroke-linecap="round"/></g>`;
const SUCCESS_BADGE = `<g><circle cx="52" cy="12" r="11" fill="${COLORS.success}" stroke="#fff" stroke-width="2"/><path d="M46.5 12.5l4 4 7-8" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/></g>`;
const FAILED_BADGE = `<g><circle cx="52" cy="12" r="11" fill="${COLORS.failed}" stroke="#fff" stroke-width="2"/><path d="M47.5 7.5l9 9M56.5 7.5l-9 9" stroke="#fff" stroke-width="3" stroke-linecap="round"/></g>`;

export interface IconSpec {
  type: LineageNodeType;
  language: ScriptLanguage | null;
  scheduled: boolean;
  lastRunStatus: RunStatus | null;
}

function languageGlyph(language: ScriptLanguage | null): string {
  const label = language ? LANGUAGE_LABEL[language] : '{ }';
  return `<text x="32" y="38.5" text-anchor="middle" font-family="system-ui, sans-serif" font-weight="700" font-size="17" fill="#fff">${label}</text>`;
}

const cache = new Map<string, string>();

/**
 * The node's picture as an SVG data URI covering its 64×64 box: the type's glyph in the middle,
 * the clock badge top left when scheduled, the last run's check or mark top right.
 */
export function nodeIcon(spec: IconSpec): string {
  const key = `${spec.type}|${spec.language}|${spec.scheduled}|${spec.lastRunStatus}`;
  let uri = cache.get(key);
  if (uri === undefined) {
    const glyph = spec.type === 'SCRIPT' ? languageGlyph(spec.language) : GLYPHS[spec.type];
    const status = spec.lastRunStatus === 'SUCCESS' ? SUCCESS_BADGE : spec.lastRunStatus === 'FAILED' ? FAILED_BADGE : '';
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">${glyph}${spec.scheduled ? CLOCK_BADGE : ''}${status}</svg>`;
    uri = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    cache.set(key, uri);
  }
  return uri;
}
