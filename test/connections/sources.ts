import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';

/** The machine's PostgreSQL (trust auth) and MariaDB (root, empty password), as source systems. */
export const PG_SOURCE = { host: '127.0.0.1', port: 5432, username: 'postgres' };
export const MYSQL_SOURCE = { host: '127.0.0.1', port: 3306, username: 'root' };

export interface SourceDb {
  name: string;
  /** Runs SQL in the source database. */
  sql(text: string, params?: unknown[]): Promise<unknown[]>;
  drop(): Promise<void>;
}

/** A fresh PostgreSQL database of its own, dropped by `drop`. */
export async function postgresSource(): Promise<SourceDb> {
  const name = `trib_src_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ host: PG_SOURCE.host, port: PG_SOURCE.port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const client = new pg.Client({ host: PG_SOURCE.host, port: PG_SOURCE.port, user: 'postgres', database: name });
  await client.connect();
  return {
    name,
    sql: async (text, params) => (await client.query(text, params as unknown[])).rows,
    async drop() {
      await client.end();
      const a = new pg.Client({ host: PG_SOURCE.host, port: PG_SOURCE.port, user: 'postgres', database: 'postgres' });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** A fresh MariaDB database of its own, dropped by `drop`. */
export async function mysqlSource(): Promise<SourceDb> {
  const name = `trib_src_${randomBytes(5).toString('hex')}`;
  const connection = await mysql.createConnection({ host: MYSQL_SOURCE.host, port: MYSQL_SOURCE.port, user: 'root', password: '' });
  await connection.query(`create database ${name}`);
  await connection.query(`use ${name}`);
  return {
    name,
    sql: async (text, params) => (await connection.query(text, params))[0] as unknown[],
    async drop() {
      await connection.query(`drop database if exists ${name}`);
      await connection.end();
    },
  };
}
