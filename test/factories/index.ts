import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.js';

let counter = 0;
/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

export interface Ref {
  id: string;
  name: string;
}

/** Creates test objects through the public GraphQL API, as a user would. */
export function factories(t: TestServer) {
  const storage = async (overrides: Record<string, unknown> = {}): Promise<Ref> =>
    (
      await t.ok(`mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id name } }`, {
        input: { name: uniqueName('ds'), kind: 'STORAGE', ...overrides },
      })
    ).createDatasource;

  return {
    storage,
    file: (overrides: Record<string, unknown> = {}) => storage({ kind: 'FILE', path: join(t.filesDir, 'input.csv'), ...overrides }),
    async join(left: Ref, right: Ref, overrides: Record<string, unknown> = {}): Promise<Ref> {
      return storage({ kind: 'JOIN', join: { leftId: left.id, rightId: right.id, leftKey: 'id', rightKey: 'id', type: 'INNER' }, ...overrides });
    },
    async etl(input: Ref, output: Ref, overrides: Record<string, unknown> = {}): Promise<Ref> {
      const data = await t.ok(`mutation($input: CreateEtlStepInput!) { createEtlStep(input: $input) { id name } }`, {
        input: { name: uniqueName('etl'), inputId: input.id, outputId: output.id, ...overrides },
      });
      return data.createEtlStep;
    },
    async sftp(output: Ref, overrides: Record<string, unknown> = {}): Promise<Ref> {
      const data = await t.ok(`mutation($input: CreateSftpImportInput!) { createSftpImport(input: $input) { id name } }`, {
        input: { name: uniqueName('sftp'), host: 'sftp.example.test', username: 'loader', password: 's3cret!', outputId: output.id, ...overrides },
      });
      return data.createSftpImport;
    },
    async script(overrides: Record<string, unknown> = {}): Promise<Ref> {
      const data = await t.ok(`mutation($input: CreateScriptInput!) { createScript(input: $input) { id name } }`, {
        input: { name: uniqueName('script'), language: 'PYTHON', code: 'print(1)\n', ...overrides },
      });
      return data.createScript;
    },
    async chain(steps: Ref[], overrides: Record<string, unknown> = {}): Promise<Ref> {
      const data = await t.ok(`mutation($input: CreateChainTaskInput!) { createChainTask(input: $input) { id name } }`, {
        input: { name: uniqueName('chain'), stepIds: steps.map((s) => s.id), ...overrides },
      });
      return data.createChainTask;
    },
  };
}

export type Factories = ReturnType<typeof factories>;

/** A real server on a fresh data dir, with factories bound to it. */
export async function serverWithFactories(env: Record<string, string> = {}): Promise<{ t: TestServer; f: Factories }> {
  const t = await startTestServer(env);
  return { t, f: factories(t) };
}
