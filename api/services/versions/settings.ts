import type { EntityManager } from '@mikro-orm/knex';
import { Setting } from '../../../core/db/entities/index.js';

/** How changes to automations are reviewed in this workspace. */
export interface WorkspaceSettings {
  /** On: edits make a draft that an admin approves before it can go live. Off (the default): an edit is live at once, and still kept as a version. */
  approvalRequired: boolean;
  /** On: an admin may approve a version they made themselves. Off (the default): another admin must. */
  allowSelfApproval: boolean;
}

const KEYS: Record<keyof WorkspaceSettings, string> = {
  approvalRequired: 'workspace.approval-required',
  allowSelfApproval: 'workspace.allow-self-approval',
};

export async function readSettings(em: EntityManager): Promise<WorkspaceSettings> {
  const rows = await em.find(Setting, { key: { $in: Object.values(KEYS) } });
  const on = (key: keyof WorkspaceSettings) => rows.some((r) => r.key === KEYS[key] && r.value === 'true');
  return { approvalRequired: on('approvalRequired'), allowSelfApproval: on('allowSelfApproval') };
}

/** Changes the settings given (inside the caller's transaction); returns them all. */
export async function writeSettings(em: EntityManager, input: Partial<Record<keyof WorkspaceSettings, boolean | null>>): Promise<WorkspaceSettings> {
  for (const key of Object.keys(KEYS) as (keyof WorkspaceSettings)[]) {
    const value = input[key];
    if (value === undefined || value === null) continue;
    const row = (await em.findOne(Setting, { key: KEYS[key] })) ?? em.create(Setting, { key: KEYS[key], value: 'false' });
    row.value = value ? 'true' : 'false';
  }
  await em.flush();
  return readSettings(em);
}
