import { Unzip, UnzipInflate, strFromU8 } from 'fflate';
import { BadUserInputError } from '../../../core/errors.js';
import { AfterImport, AutomationKind, DatasourceKind, JoinType, ScriptLanguage } from '../../../core/enums.js';
import { EXPORT_FORMAT, FOLDER, FORMAT_VERSION, type ExportedObject, type ExportedType, type Manifest } from './format.js';

/** What an import reads at most: the archive's entries, one entry, and all of them unpacked. */
export const IMPORT_LIMITS = { entries: 60_000, entryBytes: 4 * 1024 * 1024, totalBytes: 256 * 1024 * 1024 };

/** A readable export: its manifest and its objects, in the manifest's order. */
export interface ExportArchive {
  manifest: Manifest;
  objects: ExportedObject[];
}

const fail = (message: string): never => {
  throw new BadUserInputError('body', message);
};

/** How much of the body is handed to the unzipper at once: a deflated slice can grow about a thousandfold, so no step unpacks more than ~16 MB past a cap. */
const SLICE = 16 * 1024;

/**
 * Reads an export ZIP without trusting it: the entries are read in order from their local
 * headers (a central directory pointing many names at one entry plays no part), at most
 * IMPORT_LIMITS entries, and the bytes actually unpacked are counted as they come, per file and in
 * all, whatever sizes the archive declares: past a limit the reading stops. Only the files the
 * manifest may list are unpacked at all; each must then be a JSON object of the type and shape the
 * format says.
 */
export function readExport(zip: Uint8Array): ExportArchive {
  const files: Record<string, Uint8Array> = {};
  let entries = 0;
  let total = 0;
  let refusal: string | null = null;
  const unzip = new Unzip((file) => {
    entries += 1;
    if (entries > IMPORT_LIMITS.entries) refusal ??= `the archive holds more than ${IMPORT_LIMITS.entries} files`;
    if (refusal || !(file.name === 'manifest.json' || /^(datasources|automations|parameter-sets)\/[^/]+\.json$/.test(file.name))) return;
    if (files[file.name]) {
      refusal = `the archive holds ${file.name} twice`;
      return;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    file.ondata = (error, chunk, final) => {
      if (refusal) return;
      if (error) {
        refusal = `${file.name} cannot be unpacked (${error.message})`;
        return;
      }
      size += chunk.length;
      total += chunk.length;
      if (size > IMPORT_LIMITS.entryBytes) refusal = `${file.name} is larger than ${IMPORT_LIMITS.entryBytes} bytes unpacked`;
      else if (total > IMPORT_LIMITS.totalBytes) refusal = `the archive is larger than ${IMPORT_LIMITS.totalBytes} bytes unpacked`;
      if (refusal) return file.terminate();
      chunks.push(chunk);
      if (final) files[file.name] = concat(chunks, size);
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    for (let at = 0; at < zip.length && !refusal; at += SLICE) unzip.push(zip.subarray(at, at + SLICE), at + SLICE >= zip.length);
  } catch (error) {
    refusal ??= `the body is not a readable ZIP archive (${(error as Error).message})`;
  }
  if (refusal) fail(refusal);
  if (entries === 0) fail('the body is not a readable ZIP archive (no file in it)');
  const json = (name: string): unknown => {
    const bytes = files[name];
    if (!bytes) return fail(`the archive has no ${name}`);
    try {
      return JSON.parse(strFromU8(bytes));
    } catch {
      return fail(`${name} is not valid JSON`);
    }
  };
  const manifest = json('manifest.json') as Manifest;
  if (!isObject(manifest) || manifest.format !== EXPORT_FORMAT) fail(`manifest.json does not describe a ${EXPORT_FORMAT}`);
  if (manifest.formatVersion !== FORMAT_VERSION) fail(`this server reads export format version ${FORMAT_VERSION}; the archive is version ${JSON.stringify(manifest.formatVersion)}`);
  if (!Array.isArray(manifest.objects)) fail('manifest.json lists no objects');
  const seen = new Set<string>();
  const objects = manifest.objects.map((entry, i) => {
    if (!isObject(entry) || typeof entry.file !== 'string' || !(entry.type in FOLDER) || !entry.file.startsWith(`${FOLDER[entry.type as ExportedType]}/`)) {
      return fail(`manifest.json objects[${i}] is not { type, name, file } of a known type`);
    }
    if (seen.has(entry.file)) fail(`manifest.json lists ${entry.file} twice`);
    seen.add(entry.file);
    return checkObject(json(entry.file), entry.type, entry.file);
  });
  const names = new Set<string>();
  for (const o of objects) {
    if (names.has(`${o.type} ${o.name}`)) fail(`the archive holds two ${o.type} objects named ${JSON.stringify(o.name)}`);
    names.add(`${o.type} ${o.name}`);
  }
  return { manifest, objects };
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The shape of one object file (the values themselves are checked as saving checks them). */
export function checkObject(value: unknown, type: ExportedType, file: string): ExportedObject {
  const bad = (what: string): never => fail(`${file}: ${what}`);
  if (!isObject(value) || value.type !== type) return bad(`is not a ${type} object`);
  const text = (key: string, nullable = false) => {
    const v = value[key];
    if (!(typeof v === 'string' || (nullable && v === null))) bad(`${key} must be ${nullable ? 'a string or null' : 'a string'}`);
  };
  const list = (key: string) => {
    if (!Array.isArray(value[key]) || value[key].some((v: unknown) => typeof v !== 'string')) bad(`${key} must be a list of names`);
  };
  text('id');
  text('name');
  text('description', true);
  switch (type) {
    case 'DATASOURCE':
      if (!Object.values(DatasourceKind).includes(value.kind)) bad(`kind ${JSON.stringify(value.kind)} is not a datasource kind`);
      list('tags');
      text('path', true);
      if (!Array.isArray(value.columns) || value.columns.some((c: unknown) => !isObject(c) || typeof c.name !== 'string' || typeof c.type !== 'string')) bad('columns must be [{ name, type }]');
      if (value.join !== null && (!isObject(value.join) || ['left', 'right', 'leftKey', 'rightKey'].some((k) => typeof value.join[k] !== 'string') || !Object.values(JoinType).includes(value.join.type))) {
        bad('join must be null or { left, right, leftKey, rightKey, type }');
      }
      break;
    case 'PARAMETER_SET':
      if (!Array.isArray(value.parameters) || value.parameters.some((p: unknown) => !isObject(p) || typeof p.name !== 'string' || typeof p.value !== 'string')) bad('parameters must be [{ name, value }]');
      break;
    case 'AUTOMATION':
      if (!Object.values(AutomationKind).includes(value.kind)) bad(`kind ${JSON.stringify(value.kind)} is not an automation kind`);
      ['writeMode', 'errorPolicy', 'errorRecordFormat'].forEach((k) => text(k));
      text('errorDatasource', true);
      ['writeKeys', 'inputs', 'outputs', 'parameterSets'].forEach(list);
      if (value.schedule !== null && (!isObject(value.schedule) || typeof value.schedule.cron !== 'string' || typeof value.schedule.timezone !== 'string')) bad('schedule must be null or { cron, timezone }');
      if (!isObject(value.settings)) bad('settings must be an object');
      checkSettings(value.kind as AutomationKind, value.settings, (what) => bad(`settings.${what}`));
      break;
  }
  return value as unknown as ExportedObject;
}

type Shape = 'string' | 'string?' | 'integer?' | 'boolean?' | 'object?' | 'names' | readonly string[];
const SETTINGS: Record<AutomationKind, Record<string, Shape>> = {
  [AutomationKind.ETL_STEP]: { transform: 'object?' },
  [AutomationKind.SFTP_IMPORT]: {
    connection: 'string?',
    host: 'string?',
    port: 'integer?',
    username: 'string?',
    remoteDir: 'string?',
    filePattern: 'string?',
    hostKeyFingerprint: 'string?',
    afterImport: Object.values(AfterImport),
    moveToDir: 'string?',
    password: 'string?',
    privateKey: 'string?',
  },
  [AutomationKind.SCRIPT]: { language: Object.values(ScriptLanguage), code: 'string', variables: 'object?', timeoutSeconds: 'integer?', memoryMb: 'integer?' },
  [AutomationKind.CHAIN_TASK]: { steps: 'names', continueOnFailure: 'boolean?' },
  [AutomationKind.DATABASE_TABLE]: {
    connection: 'string?',
    connectionType: ['POSTGRES', 'MYSQL', undefined as unknown as string, null as unknown as string],
    host: 'string?',
    port: 'integer?',
    username: 'string?',
    database: 'string?',
    password: 'string?',
    table: 'string?',
    query: 'string?',
    cursorColumn: 'string?',
  },
  // External jobs come from OpenLineage events, never from an archive (the export leaves them out).
  [AutomationKind.EXTERNAL_JOB]: {},
};

/** The kind's settings hold values of the types its create mutation takes (the values themselves are checked as saving checks them). */
export function checkSettings(kind: AutomationKind, settings: Record<string, unknown>, bad: (what: string) => never): void {
  for (const [key, shape] of Object.entries(SETTINGS[kind])) {
    const v = settings[key];
    const absent = v === undefined || v === null;
    if (Array.isArray(shape)) {
      if (!shape.includes(v as string)) bad(`${key} must be one of ${shape.join(', ')}`);
    } else if (shape === 'string' ? typeof v !== 'string' : shape === 'string?' ? !absent && typeof v !== 'string' : shape === 'integer?' ? !absent && !Number.isInteger(v) : shape === 'boolean?' ? !absent && typeof v !== 'boolean' : shape === 'object?' ? !absent && !isObject(v) : !Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      bad(`${key} must be ${shape === 'names' ? 'a list of names' : (shape as string).replace('?', ' or null')}`);
    }
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
