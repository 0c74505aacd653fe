import { SETTINGS, type AutomationKind } from './automation.js';
import { gql } from '../lib/graphql.js';
import { jsonProblem, parseJson, splitList, type FormState } from '../forms/form.svelte.js';
import type { Ref } from '../forms/options.js';
import { scheduleDraft, scheduleInput, type ScheduleDraft } from '../forms/schedule.js';

export const KINDS: { kind: AutomationKind; label: string; what: string }[] = [
  { kind: 'ETL_STEP', label: 'ETL step', what: 'reads one datasource, transforms it, writes another' },
  { kind: 'SFTP_IMPORT', label: 'SFTP import', what: 'imports CSV or JSON-lines files from an SFTP server' },
  { kind: 'DATABASE_TABLE', label: 'Database ingestion', what: 'reads a table or a query of a PostgreSQL or MySQL/MariaDB database' },
  { kind: 'SCRIPT', label: 'Script', what: 'JavaScript or Python reading and writing declared datasources' },
  { kind: 'CHAIN_TASK', label: 'Chain task', what: 'runs other automations in order' },
];
export const isKind = (value: string | null): value is AutomationKind => KINDS.some((k) => k.kind === value);

/** What the automation form holds: every kind's fields, as text where the user types. */
export interface AutomationDraft {
  kind: AutomationKind;
  name: string;
  description: string;
  schedule: ScheduleDraft;
  // ETL step
  input: Ref | null;
  transform: string;
  // ETL step and SFTP import
  output: Ref | null;
  // SFTP import and database ingestion: the stored connection they log in with
  connection: Ref | null;
  // SFTP import
  remoteDir: string;
  filePattern: string;
  hostKeyFingerprint: string;
  afterImport: 'KEEP' | 'DELETE' | 'MOVE';
  moveToDir: string;
  // Database ingestion
  table: string;
  query: string;
  cursorColumn: string;
  // Script
  language: 'JAVASCRIPT' | 'PYTHON';
  code: string;
  inputs: Ref[];
  outputs: Ref[];
  variables: string;
  timeoutSeconds: string;
  memoryMb: string;
  // Chain task
  steps: Ref[];
  continueOnFailure: boolean;
  // Data options (not chain tasks)
  writeMode: 'REPLACE' | 'APPEND' | 'UPSERT';
  writeKeys: string;
  errorPolicy: 'FAIL_RUN' | 'DISCARD' | 'TO_DATASOURCE';
  errorRecordFormat: 'ORIGINAL_RECORD' | 'STAGE_RECORD';
  errorDatasource: Ref | null;
  /** Attached parameter sets, in order. */
  parameterSets: Ref[];
}

export const CODE_TEMPLATES: Record<AutomationDraft['language'], string> = {
  JAVASCRIPT: `// Read declared inputs and write declared outputs by name:
// for await (const row of tributary.read('orders')) {
//   await tributary.write('orders_copy', row);
// }
`,
  PYTHON: `# Read declared inputs and write declared outputs by name:
# for row in tributary.read("orders"):
#     tributary.write("orders_copy", row)
`,
};

export function emptyAutomation(kind: AutomationKind): AutomationDraft {
  return {
    kind,
    name: '',
    description: '',
    schedule: scheduleDraft(null),
    input: null,
    transform: '{\n  "steps": []\n}\n',
    output: null,
    connection: null,
    remoteDir: '.',
    filePattern: '*',
    hostKeyFingerprint: '',
    afterImport: 'KEEP',
    moveToDir: '',
    table: '',
    query: '',
    cursorColumn: '',
    language: 'JAVASCRIPT',
    code: CODE_TEMPLATES.JAVASCRIPT,
    inputs: [],
    outputs: [],
    variables: '',
    timeoutSeconds: '600',
    memoryMb: '512',
    steps: [],
    continueOnFailure: false,
    writeMode: 'REPLACE',
    writeKeys: '',
    errorPolicy: 'FAIL_RUN',
    errorRecordFormat: 'ORIGINAL_RECORD',
    errorDatasource: null,
    parameterSets: [],
  };
}


type Settings = Partial<Record<string, unknown>> & { id: string; name: string; kind: AutomationKind };

/** An automation's saved settings as a draft to edit; null when it does not exist. */
export async function loadAutomationDraft(id: string): Promise<AutomationDraft | null> {
  const { automation: found } = await gql<{ automation: (Settings & { draft: PendingDraft | null }) | null }>(
    `query ($id: ID!) { automation(id: $id) { id name kind description schedule { cron timezone } inputs { id name } outputs { id name } ${SETTINGS}
      draft { number definition references { id name } } } }`,
    { id },
  );
  if (!found) return null;
  // With a draft pending, the form edits the draft, not what is live.
  const a = found.draft ? { ...found, ...settingsOfDefinition(found.draft) } : found;
  const base = emptyAutomation(a.kind);
  const text = (value: unknown, fallback: string) => (value == null ? fallback : String(value));
  return {
    ...base,
    name: a.name,
    description: text(a.description, ''),
    schedule: scheduleDraft((a.schedule as { cron: string; timezone: string } | null) ?? null),
    input: (a.input as Ref | undefined) ?? null,
    output: (a.output as Ref | undefined) ?? null,
    transform: a.transform !== undefined ? `${JSON.stringify(a.transform, null, 2)}\n` : base.transform,
    connection: (a.connection as Ref | null | undefined) ?? null,
    table: text(a.table, ''),
    query: text(a.query, ''),
    cursorColumn: text(a.cursorColumn, ''),
    remoteDir: text(a.remoteDir, base.remoteDir),
    filePattern: text(a.filePattern, base.filePattern),
    hostKeyFingerprint: text(a.hostKeyFingerprint, ''),
    afterImport: (a.afterImport as AutomationDraft['afterImport'] | undefined) ?? base.afterImport,
    moveToDir: text(a.moveToDir, ''),
    language: (a.language as AutomationDraft['language'] | undefined) ?? base.language,
    code: text(a.code, base.code),
    inputs: (a.inputs as Ref[] | undefined) ?? [],
    outputs: (a.outputs as Ref[] | undefined) ?? [],
    variables: a.variables != null ? `${JSON.stringify(a.variables, null, 2)}\n` : '',
    timeoutSeconds: text(a.timeoutSeconds, base.timeoutSeconds),
    memoryMb: text(a.memoryMb, base.memoryMb),
    steps: (a.steps as Ref[] | undefined) ?? [],
    continueOnFailure: a.continueOnFailure === true,
    writeMode: (a.writeMode as AutomationDraft['writeMode'] | undefined) ?? base.writeMode,
    writeKeys: ((a.writeKeys as string[] | undefined) ?? []).join(', '),
    errorPolicy: (a.errorPolicy as AutomationDraft['errorPolicy'] | undefined) ?? base.errorPolicy,
    errorRecordFormat: (a.errorRecordFormat as AutomationDraft['errorRecordFormat'] | undefined) ?? base.errorRecordFormat,
    errorDatasource: (a.errorDatasource as Ref | null | undefined) ?? null,
    parameterSets: (a.parameterSets as Ref[] | undefined) ?? [],
  };
}

interface PendingDraft {
  number: number;
  definition: Record<string, unknown>;
  references: Ref[];
}

/** A version's definition in the shape the automation query answers (ids become `{ id, name }`). */
function settingsOfDefinition(draft: PendingDraft): Partial<Settings> {
  const d = draft.definition;
  const names = new Map(draft.references.map((r) => [r.id, r.name]));
  const ref = (id: unknown): Ref | null => (typeof id === 'string' ? { id, name: names.get(id) ?? id } : null);
  const refs = (ids: unknown): Ref[] => (Array.isArray(ids) ? ids.map(ref).filter((r): r is Ref => r !== null) : []);
  const inputs = refs(d.inputIds);
  const outputs = refs(d.outputIds);
  return {
    ...d,
    inputs,
    outputs,
    input: inputs[0] ?? null,
    output: outputs[0] ?? null,
    errorDatasource: ref(d.errorDatasourceId),
    steps: refs(d.stepIds),
    parameterSets: refs(d.parameterSetIds),
    connection: ref(d.connectionId),
  };
}

/** What the form checks before sending: JSON syntax and whole numbers; false after blaming the field. */
export function checkDraft(form: FormState, draft: AutomationDraft): boolean {
  const json: [string, string][] = draft.kind === 'ETL_STEP' ? [['transform', draft.transform]] : draft.kind === 'SCRIPT' ? [['variables', draft.variables]] : [];
  for (const [field, text] of json) {
    const problem = jsonProblem(text) ?? (field === 'transform' && text.trim() === '' ? 'the transform must not be empty: use {"steps": []} to copy rows' : null);
    if (problem) return blame(form, field, problem);
  }
  const numbers: [string, string][] =
    draft.kind === 'SCRIPT' ? [['timeoutSeconds', draft.timeoutSeconds], ['memoryMb', draft.memoryMb]] : [];
  for (const [field, text] of numbers) {
    if (text.trim() !== '' && !/^\d+$/.test(text.trim())) return blame(form, field, `${field} must be a whole number, got ${JSON.stringify(text)}`);
  }
  return true;
}

function blame(form: FormState, field: string, message: string): false {
  form.fail(field, message);
  return false;
}

/** A number field's text as sent: blank is null; anything else goes as typed for the server to judge. */
const number = (text: string): number | null => (text.trim() === '' ? null : Number(text));

/** The create or update input of the draft's kind (secrets only when typed; schedule null removes it). */
export function automationInput(draft: AutomationDraft, editing: boolean): Record<string, unknown> {
  const input: Record<string, unknown> = {
    name: draft.name,
    description: draft.description.trim() || null,
    schedule: scheduleInput(draft.schedule),
    parameterSetIds: draft.parameterSets.map((s) => s.id),
  };
  if (!editing && input.schedule === null) delete input.schedule;
  const data = {
    writeMode: draft.writeMode,
    writeKeys: draft.writeMode === 'UPSERT' ? splitList(draft.writeKeys) : [],
    errorPolicy: draft.errorPolicy,
    errorRecordFormat: draft.errorRecordFormat,
    errorDatasourceId: draft.errorPolicy === 'TO_DATASOURCE' ? (draft.errorDatasource?.id ?? null) : null,
  };
  switch (draft.kind) {
    case 'ETL_STEP':
      return { ...input, ...data, inputId: draft.input?.id ?? '', outputId: draft.output?.id ?? '', transform: parseJson(draft.transform) };
    case 'SFTP_IMPORT': {
      return {
        ...input,
        ...data,
        connectionId: draft.connection?.id ?? '',
        remoteDir: draft.remoteDir,
        filePattern: draft.filePattern,
        hostKeyFingerprint: draft.hostKeyFingerprint.trim() || null,
        afterImport: draft.afterImport,
        moveToDir: draft.afterImport === 'MOVE' ? draft.moveToDir : null,
        outputId: draft.output?.id ?? '',
      };
    }
    case 'DATABASE_TABLE':
      return {
        ...input,
        ...data,
        connectionId: draft.connection?.id ?? '',
        table: draft.table.trim() || null,
        query: draft.query.trim() || null,
        cursorColumn: draft.cursorColumn.trim() || null,
        outputId: draft.output?.id ?? '',
      };
    case 'SCRIPT':
      return {
        ...input,
        ...data,
        language: draft.language,
        code: draft.code,
        inputIds: draft.inputs.map((r) => r.id),
        outputIds: draft.outputs.map((r) => r.id),
        variables: parseJson(draft.variables),
        timeoutSeconds: number(draft.timeoutSeconds),
        memoryMb: number(draft.memoryMb),
      };
    case 'CHAIN_TASK':
      return { ...input, stepIds: draft.steps.map((r) => r.id), continueOnFailure: draft.continueOnFailure };
  }
}

const TYPE_NAME: Record<AutomationKind, string> = { ETL_STEP: 'EtlStep', SFTP_IMPORT: 'SftpImport', SCRIPT: 'Script', CHAIN_TASK: 'ChainTask', DATABASE_TABLE: 'DatabaseIngestion' };

/** Creates (no id) or updates the automation in one mutation; answers its id. */
export async function saveAutomation(draft: AutomationDraft, id?: string): Promise<string> {
  const type = TYPE_NAME[draft.kind];
  const field = `${id ? 'update' : 'create'}${type}`;
  const mutation = id
    ? `mutation ($id: ID!, $input: Update${type}Input!) { ${field}(id: $id, input: $input) { id } }`
    : `mutation ($input: Create${type}Input!) { ${field}(input: $input) { id } }`;
  const data = await gql<Record<string, { id: string }>>(mutation, { id, input: automationInput(draft, id !== undefined) });
  return data[field]!.id;
}
