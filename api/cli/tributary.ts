import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE = `npm run tributary -- <command>   (a client of a running server)
  export [--automations ID,…] [--datasources ID,…] [--versions ID,…] [--no-dependencies]
         [--with-plain-text-credentials] [--out FILE]
      writes the export ZIP (default tributary-export.zip); nothing chosen: the whole workspace
  import FILE [--conflict SKIP|REPLACE|RENAME] [--dry-run]
      imports an export ZIP in one transaction and prints the report per object
The server is TRIBUTARY_URL (default http://127.0.0.1:4000); TRIBUTARY_TOKEN is an API token
(create one on the Tokens page). It is read from the environment, never from the command line,
which other users of the machine can read.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      automations: { type: 'string' },
      datasources: { type: 'string' },
      versions: { type: 'string' },
      'no-dependencies': { type: 'boolean', default: false },
      'with-plain-text-credentials': { type: 'boolean', default: false },
      out: { type: 'string', default: 'tributary-export.zip' },
      conflict: { type: 'string', default: 'SKIP' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const base = (process.env.TRIBUTARY_URL ?? 'http://127.0.0.1:4000').replace(/\/+$/, '');
  const token = process.env.TRIBUTARY_TOKEN;
  if (!token) throw new UsageError(`TRIBUTARY_TOKEN is not set\n\n${USAGE}`);
  const headers = { authorization: `Bearer ${token}` };
  const [command, ...rest] = positionals;

  if (command === 'export' && rest.length === 0) {
    const query = new URLSearchParams({ dependencies: String(!values['no-dependencies']), withPlainTextCredentials: String(values['with-plain-text-credentials']) });
    if (values.automations) query.set('automationIds', values.automations);
    if (values.datasources) query.set('datasourceIds', values.datasources);
    if (values.versions) query.set('versionIds', values.versions);
    const response = await fetch(`${base}/api/v1/export?${query}`, { headers });
    if (!response.ok) throw new Error(await refusal(response));
    const zip = Buffer.from(await response.arrayBuffer());
    writeFileSync(values.out!, zip, { mode: values['with-plain-text-credentials'] ? 0o600 : 0o644 });
    console.log(`wrote ${values.out} (${zip.length} bytes)`);
    return;
  }
  if (command === 'import' && rest.length === 1) {
    const conflict = values.conflict!.toUpperCase();
    if (!['SKIP', 'REPLACE', 'RENAME'].includes(conflict)) throw new UsageError(`--conflict is SKIP, REPLACE or RENAME\n\n${USAGE}`);
    const query = new URLSearchParams({ conflict, dryRun: String(values['dry-run']) });
    const response = await fetch(`${base}/api/v1/import?${query}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/zip' }, body: readFileSync(rest[0]!) });
    if (!response.ok) throw new Error(await refusal(response));
    const report = (await response.json()) as { committed: boolean; dryRun: boolean; objects: { type: string; name: string; outcome: string; as?: string; reason?: string }[] };
    for (const o of report.objects) console.log([o.outcome, o.type, JSON.stringify(o.name), o.as ? `as ${JSON.stringify(o.as)}` : '', o.reason ?? ''].filter(Boolean).join('\t'));
    console.log(report.dryRun ? 'dry run: nothing was written' : report.committed ? 'imported' : 'nothing was imported: fix the refused objects and try again');
    if (!report.committed && !report.dryRun) process.exitCode = 1;
    return;
  }
  throw new UsageError(USAGE);
}

/** The server's coded refusal as one line. */
async function refusal(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const error = (JSON.parse(text) as { errors?: { message: string; extensions?: { code?: string } }[] }).errors?.[0];
    if (error) return `${response.status} ${error.extensions?.code ?? ''}: ${error.message}`;
  } catch {
    // not JSON
  }
  return `${response.status}: ${text.slice(0, 500)}`;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(error instanceof UsageError ? 64 : 1);
});
