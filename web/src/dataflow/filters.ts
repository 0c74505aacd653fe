import type { RendererChoice } from './renderer-choice.js';

/** The dataflow page's filters, kept in the URL's query string so a view can be shared and reloaded. */
export interface DataflowFilters {
  /** On by default in the UI (off by default in the API). */
  scheduledOnly: boolean;
  leadingTo: string | null;
  downstreamOf: string | null;
  /** Hop limit for leadingTo/downstreamOf; null = unlimited. */
  depth: number | null;
  /** Selection syntax; '' = no selection. */
  select: string;
  /** Selection syntax of what to leave out; '' = nothing. */
  exclude: string;
  includeChainTasks: boolean;
  /** The graph as it was at this time (an ISO date); null = now. */
  asOf: string | null;
  /** Nodes opened further from their panel ("show 1 more level"), in the order they were opened. */
  expand: Expansion[];
  /** Every node the view holds (up to MAX_NODES), not the COLLAPSED_NODES nearest the focus. */
  all: boolean;
  /** Which renderer draws the graph (`auto`: WebGL where it is hardware, else the canvas). */
  renderer: RendererChoice;
}

/** A node opened `depth` levels up or down: in the URL as `expand=<id>:up:<depth>`. */
export interface Expansion {
  id: string;
  direction: 'UPSTREAM' | 'DOWNSTREAM';
  depth: number;
}

/** Most expansions the page keeps (the API's bound) and most levels one opens. */
export const MAX_EXPANSIONS = 50;
export const MAX_EXPANSION_DEPTH = 20;

/** The `LineageFilter` input of the GraphQL API. */
export interface LineageFilterInput {
  scheduledOnly: boolean;
  includeChainTasks: boolean;
  leadingTo?: string;
  downstreamOf?: string;
  depth?: number;
  select?: string;
  exclude?: string;
  asOf?: string;
  expand?: Expansion[];
}

export const DEFAULT_FILTERS: Readonly<DataflowFilters> = Object.freeze({
  scheduledOnly: true,
  leadingTo: null,
  downstreamOf: null,
  depth: null,
  select: '',
  exclude: '',
  includeChainTasks: false,
  asOf: null,
  expand: [],
  all: false,
  renderer: 'auto',
});

/** The expansions of the URL; a malformed one is left out. */
function expansions(values: string[]): Expansion[] {
  const found: Expansion[] = [];
  for (const value of values) {
    const match = /^([^:\s]{1,100}):(up|down):(\d{1,2})$/.exec(value);
    const depth = Number(match?.[3]);
    if (!match || depth < 1 || depth > MAX_EXPANSION_DEPTH || found.length >= MAX_EXPANSIONS) continue;
    found.push({ id: match[1]!, direction: match[2] === 'up' ? 'UPSTREAM' : 'DOWNSTREAM', depth });
  }
  return found;
}

/** An ISO date from the URL, or null when it is not one. */
function isoDate(value: string | null): string | null {
  if (!value) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

function flag(value: string | null, fallback: boolean): boolean {
  if (value === null) return fallback;
  return value !== 'false' && value !== '0';
}

export function filtersFromSearch(search: string): DataflowFilters {
  const params = new URLSearchParams(search);
  const depth = params.get('depth');
  const parsedDepth = depth !== null && /^\d+$/.test(depth) ? Number(depth) : null;
  return {
    scheduledOnly: flag(params.get('scheduledOnly'), DEFAULT_FILTERS.scheduledOnly),
    leadingTo: params.get('leadingTo') || null,
    downstreamOf: params.get('downstreamOf') || null,
    depth: parsedDepth,
    select: params.get('select') ?? '',
    exclude: params.get('exclude') ?? '',
    includeChainTasks: flag(params.get('includeChainTasks'), DEFAULT_FILTERS.includeChainTasks),
    asOf: isoDate(params.get('asOf')),
    expand: expansions(params.getAll('expand')),
    all: flag(params.get('all'), DEFAULT_FILTERS.all),
    renderer: params.get('renderer') === 'webgl' || params.get('renderer') === 'canvas' ? (params.get('renderer') as RendererChoice) : 'auto',
  };
}

/** Only what differs from the defaults, in a stable order: `?scheduledOnly=false&select=%2Borders`. */
export function filtersToSearch(filters: DataflowFilters): string {
  const params = new URLSearchParams();
  if (filters.scheduledOnly !== DEFAULT_FILTERS.scheduledOnly) params.set('scheduledOnly', String(filters.scheduledOnly));
  if (filters.leadingTo) params.set('leadingTo', filters.leadingTo);
  if (filters.downstreamOf) params.set('downstreamOf', filters.downstreamOf);
  if (filters.depth !== null && hasFocus(filters)) params.set('depth', String(filters.depth));
  if (filters.select.trim()) params.set('select', filters.select);
  if (filters.exclude.trim()) params.set('exclude', filters.exclude);
  if (filters.includeChainTasks) params.set('includeChainTasks', 'true');
  if (filters.asOf) params.set('asOf', filters.asOf);
  for (const { id, direction, depth } of filters.expand) params.append('expand', `${id}:${direction === 'UPSTREAM' ? 'up' : 'down'}:${depth}`);
  if (filters.all) params.set('all', 'true');
  if (filters.renderer !== 'auto') params.set('renderer', filters.renderer);
  const query = params.toString();
  return query ? `?${query}` : '';
}

export function hasFocus(filters: DataflowFilters): boolean {
  return filters.leadingTo !== null || filters.downstreamOf !== null;
}

/** The API's filter: depth only with a focus (the API refuses it alone), selection only when given. */
export function toLineageFilter(filters: DataflowFilters): LineageFilterInput {
  const input: LineageFilterInput = { scheduledOnly: filters.scheduledOnly, includeChainTasks: filters.includeChainTasks };
  if (filters.leadingTo) input.leadingTo = filters.leadingTo;
  if (filters.downstreamOf) input.downstreamOf = filters.downstreamOf;
  if (filters.depth !== null && hasFocus(filters)) input.depth = filters.depth;
  if (filters.select.trim()) input.select = filters.select.trim();
  if (filters.exclude.trim()) input.exclude = filters.exclude.trim();
  if (filters.asOf) input.asOf = filters.asOf;
  if (filters.expand.length > 0) input.expand = filters.expand.map(({ id, direction, depth }) => ({ id, direction, depth }));
  return input;
}

/** Why a filter answered no node, in words a user can act on. */
export function emptyReason(filters: DataflowFilters, names: { leadingTo?: string; downstreamOf?: string }): string {
  const parts: string[] = [];
  if (filters.leadingTo) parts.push(`leading to “${names.leadingTo ?? filters.leadingTo}”`);
  if (filters.downstreamOf) parts.push(`downstream of “${names.downstreamOf ?? filters.downstreamOf}”`);
  if (filters.select.trim()) parts.push(`matching the selection “${filters.select.trim()}”`);
  if (filters.exclude.trim()) parts.push(`once “${filters.exclude.trim()}” is left out`);
  if (filters.asOf) parts.push(`as of ${new Date(filters.asOf).toLocaleString()}`);
  if (filters.scheduledOnly) {
    const scope = parts.length ? ` ${parts.join(', ')}` : '';
    return `No scheduled flow${scope}: no automation here has an active schedule or is triggered by a scheduled chain task. Turn off “Only scheduled flows” to see every flow.`;
  }
  if (parts.length) return `Nothing ${parts.join(', ')}.`;
  return 'The workspace has no datasource or automation yet.';
}

/** A date as a `datetime-local` input shows it: the browser's local time, to the second. */
export function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A `datetime-local` input's value (local time) as an ISO date; null when empty or not a date. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const time = new Date(value).getTime();
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/** The expansions once `id` is opened one more level `direction` (a new one starts at 1). */
export function expandedOnce(list: Expansion[], id: string, direction: Expansion['direction']): Expansion[] {
  const current = list.find((e) => e.id === id && e.direction === direction);
  if (!current) return list.length >= MAX_EXPANSIONS ? list : [...list, { id, direction, depth: 1 }];
  return list.map((e) => (e === current ? { ...e, depth: Math.min(MAX_EXPANSION_DEPTH, e.depth + 1) } : e));
}

/** The expansions without those of `id`: the node collapsed back to what the filters show. */
export function collapsed(list: Expansion[], id: string): Expansion[] {
  return list.filter((e) => e.id !== id);
}
