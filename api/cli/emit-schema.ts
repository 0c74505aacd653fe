import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildAppSchema, printAppSchema } from '../graphql/schema.js';

/** `npm run schema:emit`: writes schema.graphql at the repository root. */
const target = fileURLToPath(new URL('../../schema.graphql', import.meta.url));
writeFileSync(target, printAppSchema(await buildAppSchema()));
console.log(`wrote ${target}`);
