/**
 * A JUnit XML check for tests: well-formed XML by fast-xml-parser's validator, then the
 * structure the usual consumers read (Jenkins' junit and xunit plugins, GitLab's unit-test
 * reports, the GitHub test-reporter actions): a `testsuites` root of `testsuite` elements,
 * each with `name` and numeric `tests`, `failures`, `errors` (and `skipped`) that agree with
 * its `testcase` children; each test case with a `name` and a `classname`, at most one of
 * `failure` (with a `message`), `error` or `skipped`.
 *
 * @see https://github.com/testmoapp/junitxml
 */
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** One test case as parsed. */
export interface ParsedCase {
  name: string;
  classname: string;
  failure?: { message: string; type?: string };
  skipped?: unknown;
}

/** One suite as parsed. */
export interface ParsedSuite {
  name: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  cases: ParsedCase[];
  properties: Record<string, string>;
}

/**
 * Check JUnit XML and return its suites.
 * @throws AssertionError naming what breaks the structure.
 */
export function parseJUnit(xml: string): ParsedSuite[] {
  const valid = XMLValidator.validate(xml);
  assert.equal(valid, true, `not well-formed XML: ${JSON.stringify(valid)}`);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) }).parse(xml);
  assert.ok(doc.testsuites !== undefined, 'the root is <testsuites>');
  const suites = (doc.testsuites.testsuite ?? []) as Record<string, any>[];
  let total = 0;
  const parsed = suites.map((s) => {
    assert.ok(typeof s.name === 'string' && s.name.length > 0, 'a testsuite has a name');
    for (const attr of ['tests', 'failures', 'errors']) assert.match(String(s[attr]), /^\d+$/, `testsuite ${attr} is a count`);
    const cases = (s.testcase ?? []) as Record<string, any>[];
    for (const c of cases) {
      assert.ok(typeof c.name === 'string' && c.name.length > 0, 'a testcase has a name');
      assert.ok(typeof c.classname === 'string' && c.classname.length > 0, `testcase ${c.name} has a classname`);
      assert.ok([c.failure, c.error, c.skipped].filter((x) => x !== undefined).length <= 1, `testcase ${c.name} has one outcome`);
      if (c.failure !== undefined) assert.ok(typeof c.failure.message === 'string' && c.failure.message.length > 0, `the failure of ${c.name} has a message`);
    }
    const failures = cases.filter((c) => c.failure !== undefined).length;
    const skipped = cases.filter((c) => c.skipped !== undefined).length;
    assert.equal(Number(s.tests), cases.length, `testsuite ${s.name}: tests`);
    assert.equal(Number(s.failures), failures, `testsuite ${s.name}: failures`);
    assert.equal(Number(s.errors), 0, `testsuite ${s.name}: errors`);
    assert.equal(Number(s.skipped ?? 0), skipped, `testsuite ${s.name}: skipped`);
    total += cases.length;
    const properties = Object.fromEntries(((s.properties?.property ?? []) as { name: string; value: string }[]).map((p) => [p.name, p.value]));
    return { name: s.name, tests: cases.length, failures, errors: 0, skipped, cases: cases as ParsedCase[], properties };
  });
  if (doc.testsuites.tests !== undefined) assert.equal(Number(doc.testsuites.tests), total, 'testsuites tests');
  return parsed;
}
