import { strFromU8, unzipSync } from 'fflate';
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

/**
 * Reads an export ZIP without trusting it: at most IMPORT_LIMITS entries and bytes (checked on the
 * sizes the archive declares before anything is unpacked, and never unpacked past them), only the
 * files the manifest lists, each a JSON object of the type and shape the format says.
 */
export function readExport(zip: Uint8Array): ExportArchive {
  let entries = 0;
  let total = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (file) => {
        entries += 1;
        if (entries > IMPORT_LIMITS.entries) fail(`the archive holds more than ${IMPORT_LIMITS.entries} files`);
        if (file.originalSize > IMPORT_LIMITS.entryBytes) fail(`${file.name} is larger than ${IMPORT_LIMITS.entryBytes} bytes unpacked`);
        total += file.originalSize;
        if (total > IMPORT_LIMITS.totalBytes) fail(`the archive is larger than ${IMPORT_LIMITS.totalBytes} bytes unpacked`);
        return file.name === 'manifest.json' || /^(datasources|automations|parameter-sets)\/[^/]+\.json$/.test(file.name);
      },
    });
  } catch (error) {
    if (error instanceof BadUserInputError) throw error;
    return fail(`the body is not a readable ZIP archive (${(error as Error).message})`);
  }
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
    host: 'string',
    port: 'integer?',
    username: 'string',
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
