import type { TemplateParameter } from '../../../core/db/entities/index.js';
import type { ExportedAutomation, ExportedDatasource } from '../portability/format.js';

/**
 * A template: flows in the export format, with `{{parameter}}` wherever a value is the user's to
 * choose, and `{{@object}}` where a text names one of its objects (a script's code naming a
 * datasource): that becomes the name the object gets.
 */
export interface TemplateDefinition {
  id: string;
  name: string;
  description: string;
  parameters: TemplateParameter[];
  objects: (ExportedDatasource | ExportedAutomation)[];
}

const datasource = (name: string, kind: `${ExportedDatasource['kind']}`, extra: Partial<ExportedDatasource> = {}): ExportedDatasource => ({
  type: 'DATASOURCE', id: '', name, kind: kind as ExportedDatasource['kind'], description: null, tags: [], path: null, columns: [], join: null, ...extra,
});
const automation = (name: string, kind: `${ExportedAutomation['kind']}`, extra: Partial<ExportedAutomation>): ExportedAutomation => ({
  type: 'AUTOMATION', id: '', name, kind: kind as ExportedAutomation['kind'], description: null, schedule: null, writeMode: 'REPLACE', writeKeys: [], errorPolicy: 'FAIL_RUN',
  errorRecordFormat: 'ORIGINAL_RECORD', errorDatasource: null, inputs: [], outputs: [], parameterSets: [], settings: {}, ...extra,
});
const param = (name: string, description: string, value: string | null): TemplateParameter => ({ name, description, default: value });
const nightly = (cron: string) => ({ cron, timezone: '{{timezone}}' });
const TIMEZONE = param('timezone', 'IANA time zone of the schedule', 'UTC');

/** The gallery: one or more of every automation kind, each a flow teams build again and again. */
export const BUILT_IN_TEMPLATES: TemplateDefinition[] = [
  {
    id: 'builtin:csv-nightly',
    name: 'CSV into a table nightly',
    description: 'A CSV file under FILE_ROOTS loaded into a table every night, replacing its rows.',
    parameters: [param('file', 'the CSV file, relative to the first FILE root', 'incoming/data.csv'), param('hour', 'hour of the nightly load (0–23)', '2'), TIMEZONE],
    objects: [
      datasource('csv file', 'FILE', { path: '{{file}}' }),
      datasource('table', 'STORAGE'),
      automation('nightly load', 'ETL_STEP', { inputs: ['csv file'], outputs: ['table'], schedule: nightly('0 {{hour}} * * *'), settings: { transform: { steps: [] } } }),
    ],
  },
  {
    id: 'builtin:sftp-dedupe',
    name: 'SFTP drop folder with dedupe',
    description: 'New files in a remote drop folder imported every 15 minutes (each file once), then the rows deduplicated into a clean table.',
    parameters: [
      param('host', 'the SFTP server', null),
      param('username', 'who logs in (set the password or key on the import afterwards)', null),
      param('directory', 'the drop folder', '/outgoing'),
      param('pattern', 'which files', '*.csv'),
      param('key', 'the column that identifies a row', 'id'),
      TIMEZONE,
    ],
    objects: [
      datasource('drop', 'STORAGE'),
      datasource('clean', 'STORAGE'),
      automation('import drop folder', 'SFTP_IMPORT', {
        outputs: ['drop'],
        writeMode: 'APPEND',
        schedule: nightly('*/15 * * * *'),
        settings: { host: '{{host}}', port: 22, username: '{{username}}', remoteDir: '{{directory}}', filePattern: '{{pattern}}', hostKeyFingerprint: null, afterImport: 'KEEP', moveToDir: null },
      }),
      automation('dedupe', 'ETL_STEP', { inputs: ['drop'], outputs: ['clean'], settings: { transform: { sql: 'select * from input where rowid in (select min(rowid) from input group by "{{key}}")' } } }),
    ],
  },
  {
    id: 'builtin:join-aggregate',
    name: 'Join and aggregate',
    description: 'Two sources joined on a key, then summed per group into a report table.',
    parameters: [
      param('left_file', 'the facts (e.g. orders), a CSV under FILE_ROOTS', 'incoming/orders.csv'),
      param('right_file', 'the dimension (e.g. customers)', 'incoming/customers.csv'),
      param('key', 'the join key, in both files', 'customer_id'),
      param('group', 'the column of the right file to group by', 'country'),
      param('measure', 'the column of the left file to sum', 'amount'),
    ],
    objects: [
      datasource('facts', 'FILE', { path: '{{left_file}}' }),
      datasource('dimension', 'FILE', { path: '{{right_file}}' }),
      datasource('joined', 'JOIN', { join: { left: 'facts', right: 'dimension', leftKey: '{{key}}', rightKey: '{{key}}', type: 'INNER' as never } }),
      datasource('report', 'STORAGE'),
      automation('aggregate', 'ETL_STEP', {
        inputs: ['joined'],
        outputs: ['report'],
        settings: { transform: { steps: [{ op: 'groupBy', keys: ['{{group}}'], aggregates: { total: { fn: 'sum', of: '{{measure}}' }, rows: { fn: 'count' } } }] } },
      }),
    ],
  },
  {
    id: 'builtin:python-scoring',
    name: 'Python scoring script',
    description: 'A Python script scoring every row of a table with a formula, in the sandbox, writing the scores to another table.',
    parameters: [param('input_file', 'the rows to score, a CSV under FILE_ROOTS', 'incoming/leads.csv'), param('column', 'the numeric column the score is computed from', 'value'), param('factor', 'score = column × factor', '1.5')],
    objects: [
      datasource('to score', 'FILE', { path: '{{input_file}}' }),
      datasource('scores', 'STORAGE'),
      automation('score', 'SCRIPT', {
        inputs: ['to score'],
        outputs: ['scores'],
        settings: {
          language: 'PYTHON',
          code: 'factor = float(tributary.kwargs["factor"])\nfor row in tributary.read("{{@to score}}"):\n    row["score"] = float(row["{{column}}"]) * factor\n    tributary.write("{{@scores}}", row)\n',
          variables: { kwargs: { factor: '{{factor}}' } },
          timeoutSeconds: 600,
          memoryMb: 512,
        },
      }),
    ],
  },
  {
    id: 'builtin:chain-of-loads',
    name: 'Chain of loads',
    description: 'Two loads run one after the other by a scheduled chain task: the second starts once the first succeeded.',
    parameters: [param('first_file', 'the first CSV under FILE_ROOTS', 'incoming/first.csv'), param('second_file', 'the second CSV', 'incoming/second.csv'), param('hour', 'hour of the nightly chain (0–23)', '3'), TIMEZONE],
    objects: [
      datasource('first file', 'FILE', { path: '{{first_file}}' }),
      datasource('second file', 'FILE', { path: '{{second_file}}' }),
      datasource('first table', 'STORAGE'),
      datasource('second table', 'STORAGE'),
      automation('load first', 'ETL_STEP', { inputs: ['first file'], outputs: ['first table'], settings: { transform: { steps: [] } } }),
      automation('load second', 'ETL_STEP', { inputs: ['second file'], outputs: ['second table'], settings: { transform: { steps: [] } } }),
      automation('nightly chain', 'CHAIN_TASK', { writeMode: 'REPLACE', schedule: nightly('0 {{hour}} * * *'), settings: { steps: ['load first', 'load second'], continueOnFailure: false } }),
    ],
  },
  {
    id: 'builtin:quarantine',
    name: 'Error records to a quarantine table',
    description: 'A load that keeps going past rows it cannot read and appends them, as they were, to a quarantine table to look at.',
    parameters: [param('file', 'the CSV under FILE_ROOTS', 'incoming/records.csv')],
    objects: [
      datasource('records file', 'FILE', { path: '{{file}}' }),
      datasource('records', 'STORAGE'),
      datasource('quarantine', 'STORAGE'),
      automation('load with quarantine', 'ETL_STEP', { inputs: ['records file'], outputs: ['records'], errorPolicy: 'TO_DATASOURCE', errorDatasource: 'quarantine', settings: { transform: { steps: [] } } }),
    ],
  },
];
