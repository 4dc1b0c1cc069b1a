/**
 * The scenario document types agree with the schema: regenerating them from
 * scenario.schema.json gives exactly the committed scenarios/scenario-document.ts, which
 * the loader's normalisers take as input (no `any`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DOCUMENT_TYPES_FILE, generateDocumentTypes } from './scenario-document.ts';

test('scenarios/scenario-document.ts is what the schema generates (run npm run gen:types when it is not)', async () => {
  const committed = readFileSync(DOCUMENT_TYPES_FILE, 'utf8');
  const generated = await generateDocumentTypes();
  assert.ok(generated.includes('export type Load ='), 'the generator produced the load section');
  assert.equal(committed, generated);
});

test('the normalisers take the generated document types, not any', () => {
  for (const file of ['load.ts', 'load-spec.ts', 'telemetry-spec.ts', 'backends-spec.ts']) {
    const text = readFileSync(new URL(`../../scenarios/${file}`, import.meta.url), 'utf8');
    assert.doesNotMatch(text, /Record<string, any>|: any\b|as any\b/, `${file} has no any`);
  }
});
