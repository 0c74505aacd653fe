/** An API enum value as people read it: "ETL_STEP" → "ETL step", "JOIN_DATASOURCE" → "join datasource", "SUCCESS" → "success". */
export function enumLabel(value: string): string {
  return value.replace(/_/g, ' ').toLowerCase().replace(/^etl\b/, 'ETL').replace(/^sftp\b/, 'SFTP');
}
