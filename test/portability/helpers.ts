import { strFromU8, unzipSync, zipSync, strToU8 } from 'fflate';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestServer } from '../helpers/server.js';
import { ROOT } from '../helpers/process.js';

export interface Exported {
  status: number;
  zip: Uint8Array;
  files: Record<string, any>;
}

/** GET /api/v1/export with `query`, as the admin (or `auth`); the files unpacked and parsed. */
export async function exportOf(t: TestServer, query: Record<string, string> = {}, auth: Record<string, string> = t.auth): Promise<Exported> {
  const response = await fetch(`${t.url}/api/v1/export?${new URLSearchParams(query)}`, { headers: auth });
  const zip = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 200) return { status: response.status, zip, files: JSON.parse(strFromU8(zip)) };
  const files = Object.fromEntries(Object.entries(unzipSync(zip)).map(([name, bytes]) => [name, JSON.parse(strFromU8(bytes))]));
  return { status: 200, zip, files };
}

/** POST /api/v1/import; the report (or the refusal) and the status. */
export async function importInto(t: TestServer, zip: Uint8Array, query: Record<string, string> = {}, auth: Record<string, string> = t.auth, contentType = 'application/zip'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${t.url}/api/v1/import?${new URLSearchParams(query)}`, { method: 'POST', headers: { ...auth, 'content-type': contentType }, body: zip });
  return { status: response.status, body: await response.json() };
}

/** A ZIP of these files (JSON values are written as JSON). */
export function zipOf(files: Record<string, unknown>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, value]) => [name, value instanceof Uint8Array ? value : strToU8(typeof value === 'string' ? value : JSON.stringify(value))])));
}

/** The object files of an export (manifest left out: it holds the time). */
export function objectFiles(files: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(files).filter(([name]) => name !== 'manifest.json'));
}

/** `npm run tributary -- …` against `t` with `token`; asynchronously, since `t` answers from this very process. */
export async function tributaryCli(t: TestServer, args: string[], token: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'api/cli/tributary.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, TRIBUTARY_URL: t.url, TRIBUTARY_TOKEN: token },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
