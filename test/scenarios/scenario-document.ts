/**
 * Generates `scenarios/scenario-document.ts`, the TypeScript type of a scenario document as
 * written (before normalisation), from `scenarios/scenario.schema.json` with
 * json-schema-to-typescript: the schema stays the one source of truth, and
 * `scenario-document.test.ts` fails when the committed types are stale.
 *
 * Run `npm run gen:types` after editing the schema.
 * @see https://github.com/bcherny/json-schema-to-typescript
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { compile } from 'json-schema-to-typescript';

/** The generated file, relative to the repository root. */
export const DOCUMENT_TYPES_FILE = new URL('../../scenarios/scenario-document.ts', import.meta.url);
const SCHEMA_FILE = new URL('../../scenarios/scenario.schema.json', import.meta.url);

const BANNER = `/**
 * The scenario document as written, before normalisation: generated from
 * scenario.schema.json by test/scenarios/scenario-document.ts (json-schema-to-typescript).
 * Do not edit: run \`npm run gen:types\`. test/scenarios/scenario-document.test.ts fails
 * when this file and the schema disagree.
 */
/* eslint-disable */`;

/** The text `scenarios/scenario-document.ts` must hold. */
export async function generateDocumentTypes(): Promise<string> {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Parameters<typeof compile>[0];
  return compile(schema, 'ScenarioDocument', {
    bannerComment: BANNER,
    additionalProperties: false,
    format: true,
    style: { singleQuote: true, printWidth: 160 },
  });
}

if (import.meta.main) {
  writeFileSync(DOCUMENT_TYPES_FILE, await generateDocumentTypes());
  process.stdout.write(`wrote ${DOCUMENT_TYPES_FILE.pathname}\n`);
}
