import { mkdirSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';

/** `child` is `parent` or lies under it (both absolute and normalized). */
export function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** The default FILE_ROOTS directory, `DATA_DIR/files`, created when missing: its real path. */
export function defaultFileRoot(dataDir: string): string {
  const root = join(dataDir, 'files');
  mkdirSync(root, { recursive: true });
  return realpathSync(root);
}
