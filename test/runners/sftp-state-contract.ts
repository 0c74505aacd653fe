import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteFileId, SftpState } from '../../jobs/runners/sftp-state.js';

export interface SftpStateContractConfig {
  /** Suite title, e.g. the store's dialect. */
  name: string;
  /** Opens the state under test; every call is another connection to the same store. */
  open(): Promise<SftpState>;
  /** How many rows the store holds for an import's files, read past the interface (to see duplicates). */
  countImported(importId: string): Promise<number>;
}

/** Past 2^31 ms and 4 GiB: sizes and modification times must keep every digit. */
const BIG = { size: 5 * 2 ** 32 + 7, mtime: Date.UTC(2031, 0, 2, 3, 4, 5) };

/**
 * What every SFTP state promises the SFTP import runner, whatever it is stored in. Each test works
 * on imports of its own (random ids), so the tests share one store.
 */
export function sftpStateContract(config: SftpStateContractConfig): void {
  describe(`${config.name} SFTP state`, () => {
    let state: SftpState;
    const importId = (): string => `import-${randomUUID()}`;
    const file = (name: string, overrides: Partial<RemoteFileId> = {}): RemoteFileId => ({ name, size: 1024, mtime: Date.UTC(2025, 5, 1, 12), ...overrides });

    beforeAll(async () => {
      state = await config.open();
    });
    afterAll(async () => state?.close());

    describe('imported files', () => {
      it('knows a file once marked, by name, size and modification time together', async () => {
        const id = importId();
        const orders = file('orders.csv');
        expect(await state.isImported(id, orders)).toBe(false);
        await state.markImported(id, [orders]);
        expect(await state.isImported(id, orders)).toBe(true);
        expect(await state.isImported(id, { ...orders })).toBe(true);
      });

      it('counts a file uploaded again with another size or modification time as new', async () => {
        const id = importId();
        const orders = file('orders.csv');
        await state.markImported(id, [orders]);
        expect(await state.isImported(id, { ...orders, size: orders.size + 1 })).toBe(false);
        expect(await state.isImported(id, { ...orders, mtime: orders.mtime + 1000 })).toBe(false);
        expect(await state.isImported(id, { ...orders, name: 'orders2.csv' })).toBe(false);
        expect(await state.isImported(id, { ...orders, name: 'ORDERS.csv' })).toBe(false);
        await state.markImported(id, [{ ...orders, mtime: orders.mtime + 1000 }]);
        expect(await state.isImported(id, orders)).toBe(true);
        expect(await state.isImported(id, { ...orders, mtime: orders.mtime + 1000 })).toBe(true);
        expect(await config.countImported(id)).toBe(2);
      });

      it('marks several files at once, keeps large sizes and times exactly, and ignores an empty list', async () => {
        const id = importId();
        const files = [file('a.csv'), file('b.csv', { size: 0 }), file('c.csv', BIG), file('name with spaces, "quotes" and ünïcode.csv')];
        await state.markImported(id, []);
        expect(await config.countImported(id)).toBe(0);
        await state.markImported(id, files);
        for (const f of files) expect(await state.isImported(id, f)).toBe(true);
        expect(await state.isImported(id, { ...BIG, name: 'c.csv', size: BIG.size - 1 })).toBe(false);
        expect(await config.countImported(id)).toBe(4);
      });

      it('remembers a file once, however often it is marked', async () => {
        const id = importId();
        const a = file('a.csv');
        await state.markImported(id, [a]);
        await state.markImported(id, [a, a, file('b.csv')]);
        expect(await config.countImported(id)).toBe(2);
      });

      it('keeps each import to itself', async () => {
        const [one, two] = [importId(), importId()];
        const shared = file('shared.csv');
        await state.markImported(one, [shared]);
        expect(await state.isImported(one, shared)).toBe(true);
        expect(await state.isImported(two, shared)).toBe(false);
        expect(await config.countImported(two)).toBe(0);
      });

      it('is remembered by a connection opened later', async () => {
        const id = importId();
        await state.markImported(id, [file('kept.csv')]);
        const later = await config.open();
        try {
          expect(await later.isImported(id, file('kept.csv'))).toBe(true);
        } finally {
          await later.close();
        }
      });

      it('never stores a file twice when two connections mark the same files at once', async () => {
        const id = importId();
        const files = Array.from({ length: 40 }, (_, i) => file(`f${i}.csv`, { size: i }));
        const other = await config.open();
        try {
          const halves = [files.slice(0, 25), files.slice(15)];
          await Promise.all(
            [state, other].flatMap((s) => [s.markImported(id, files), ...halves.map((half) => s.markImported(id, half)), ...files.slice(0, 5).map((f) => s.markImported(id, [f]))]),
          );
          expect(await config.countImported(id)).toBe(40);
          for (const f of files) expect(await other.isImported(id, f)).toBe(true);
        } finally {
          await other.close();
        }
      });
    });

    describe('host keys', () => {
      it('has none before the first connection, then pins the first one recorded', async () => {
        const id = importId();
        expect(await state.knownHostKey(id, 'sftp.example.com', 22)).toBeNull();
        await state.recordHostKey(id, 'sftp.example.com', 22, 'SHA256:first');
        expect(await state.knownHostKey(id, 'sftp.example.com', 22)).toBe('SHA256:first');
      });

      it('shows a changed key as different, and replaces it only when told to', async () => {
        const id = importId();
        await state.recordHostKey(id, 'sftp.example.com', 22, 'SHA256:first');
        const presented = 'SHA256:changed';
        expect(await state.knownHostKey(id, 'sftp.example.com', 22)).not.toBe(presented);
        expect(await state.knownHostKey(id, 'sftp.example.com', 22)).toBe('SHA256:first');
        await state.recordHostKey(id, 'sftp.example.com', 22, presented);
        expect(await state.knownHostKey(id, 'sftp.example.com', 22)).toBe(presented);
      });

      it('keeps a key per import, host and port', async () => {
        const [one, two] = [importId(), importId()];
        await state.recordHostKey(one, 'sftp.example.com', 22, 'SHA256:one');
        expect(await state.knownHostKey(two, 'sftp.example.com', 22)).toBeNull();
        expect(await state.knownHostKey(one, 'sftp.example.com', 2222)).toBeNull();
        expect(await state.knownHostKey(one, 'other.example.com', 22)).toBeNull();
        await state.recordHostKey(two, 'sftp.example.com', 22, 'SHA256:two');
        expect(await state.knownHostKey(one, 'sftp.example.com', 22)).toBe('SHA256:one');
        expect(await state.knownHostKey(two, 'sftp.example.com', 22)).toBe('SHA256:two');
      });

      it('keeps one key when two connections record at once', async () => {
        const id = importId();
        const other = await config.open();
        try {
          await Promise.all([state, other].flatMap((s, i) => Array.from({ length: 5 }, (_, j) => s.recordHostKey(id, 'race.example.com', 22, `SHA256:${i}-${j}`))));
          expect(await state.knownHostKey(id, 'race.example.com', 22)).toMatch(/^SHA256:[01]-[0-4]$/);
          expect(await other.knownHostKey(id, 'race.example.com', 22)).toBe(await state.knownHostKey(id, 'race.example.com', 22));
        } finally {
          await other.close();
        }
      });
    });

    describe('forget', () => {
      it("drops an import's files and host keys, and nothing of other imports", async () => {
        const [gone, kept] = [importId(), importId()];
        for (const id of [gone, kept]) {
          await state.markImported(id, [file('a.csv'), file('b.csv')]);
          await state.recordHostKey(id, 'sftp.example.com', 22, `SHA256:${id}`);
        }
        await state.forget(gone);
        expect(await state.isImported(gone, file('a.csv'))).toBe(false);
        expect(await config.countImported(gone)).toBe(0);
        expect(await state.knownHostKey(gone, 'sftp.example.com', 22)).toBeNull();
        expect(await state.isImported(kept, file('a.csv'))).toBe(true);
        expect(await state.knownHostKey(kept, 'sftp.example.com', 22)).toBe(`SHA256:${kept}`);
        await state.forget(gone); // forgetting twice is fine
        await state.markImported(gone, [file('a.csv')]);
        expect(await state.isImported(gone, file('a.csv'))).toBe(true);
      });
    });
  });
}
