import type { Migration } from '@mikro-orm/migrations';
import { Migration20261122000000Initial } from './Migration20261122000000Initial.js';
import { Migration20261122100000LineageChanges } from './Migration20261122100000LineageChanges.js';
import { Migration20261122200000WriteModes } from './Migration20261122200000WriteModes.js';
import { Migration20261122300000RunnerSettings } from './Migration20261122300000RunnerSettings.js';
import { Migration20261122400000ErrorPolicy } from './Migration20261122400000ErrorPolicy.js';
import { Migration20261122500000Runs } from './Migration20261122500000Runs.js';

/** Every migration in order. New ones are appended; applied ones are never edited. */
export const MIGRATIONS: { name: string; class: new (...args: any[]) => Migration }[] = [
  { name: 'Migration20261122000000Initial', class: Migration20261122000000Initial },
  { name: 'Migration20261122100000LineageChanges', class: Migration20261122100000LineageChanges },
  { name: 'Migration20261122200000WriteModes', class: Migration20261122200000WriteModes },
  { name: 'Migration20261122300000RunnerSettings', class: Migration20261122300000RunnerSettings },
  { name: 'Migration20261122400000ErrorPolicy', class: Migration20261122400000ErrorPolicy },
  { name: 'Migration20261122500000Runs', class: Migration20261122500000Runs },
];
