/**
 * Reading and parsing a scenario document within bounds, so that careless or hostile
 * input is refused quickly with a ConfigError instead of exhausting time or memory:
 *
 * - at most {@link MAX_SCENARIO_BYTES} of text (a file is never read past it);
 * - at most {@link MAX_SCENARIO_NODES} YAML nodes (keys, values, items, aliases), counted
 *   before anything else looks at the document;
 * - duplicate keys found in one linear pass (the `yaml` library's own `uniqueKeys` check
 *   compares every key of a map with every other: 80,000 keys took about a minute);
 * - aliases expanded at most {@link MAX_ALIAS_COUNT} times (the "billion laughs" document),
 *   with the `yaml` library's own `maxAliasCount`.
 *
 * @see https://eemeli.org/yaml/#tojs-options (maxAliasCount)
 * @see https://en.wikipedia.org/wiki/Billion_laughs_attack
 */
import { open } from 'node:fs/promises';
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { ConfigError, type InputProblem } from '../core/errors.ts';

/** Largest scenario accepted (bytes of text). Real scenarios are a few KiB. */
export const MAX_SCENARIO_BYTES = 512 * 1024;
/** Most YAML nodes (map keys and values, sequence items, aliases) in one document. */
export const MAX_SCENARIO_NODES = 20_000;
/** Most alias expansions while the document is turned into plain values. */
export const MAX_ALIAS_COUNT = 100;

/** Problems listed for one kind (duplicate keys); the first ones are enough to fix the file. */
const PROBLEMS_LISTED = 20;

function tooLarge(sourceName: string, message: string): ConfigError {
  return new ConfigError(`${sourceName}: ${message}`, [{ pointer: '', message }]);
}

/**
 * Read a scenario file, at most {@link MAX_SCENARIO_BYTES} of it.
 * @returns the text (UTF-8).
 * @throws ConfigError `TALLY_CONFIG_UNREADABLE` when it cannot be read; `TALLY_CONFIG_INVALID`
 * when it is longer than the cap (whatever it is: a FIFO or a device is read only that far).
 */
export async function readScenarioText(path: string): Promise<string> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (cause) {
    throw new ConfigError(`cannot read scenario ${path}: ${(cause as Error).message}`, [], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  }
  try {
    const buffer = Buffer.alloc(MAX_SCENARIO_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_SCENARIO_BYTES) throw tooLarge(path, `is larger than ${MAX_SCENARIO_BYTES} bytes; a scenario is a few KiB`);
    }
    return buffer.toString('utf8', 0, length);
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw new ConfigError(`cannot read scenario ${path}: ${(cause as Error).message}`, [], { code: 'TALLY_CONFIG_UNREADABLE', cause });
  } finally {
    await file.close();
  }
}

function escapeToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Nodes of a parsed document, and its duplicate and complex (non-scalar) keys, in one pass (aliases counted, not followed). */
function survey(root: Node | null, sourceName: string): InputProblem[] {
  const duplicates: InputProblem[] = [];
  let nodes = 0;
  const stack: [Node | null | undefined, string][] = [[root, '']];
  while (stack.length > 0) {
    const [node, pointer] = stack.pop()!;
    if (node === null || node === undefined) continue;
    if (++nodes > MAX_SCENARIO_NODES) throw tooLarge(sourceName, `has more than ${MAX_SCENARIO_NODES} keys, values and items; a scenario has a few hundred`);
    if (isMap(node)) {
      const keys = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const plain = isScalar(pair.key) && (pair.key.value === null || ['string', 'number', 'boolean'].includes(typeof pair.key.value));
        const key = plain ? String((pair.key as { value: unknown }).value) : '(complex key)';
        const at = `${pointer}/${escapeToken(key)}`;
        if (!plain && duplicates.length < PROBLEMS_LISTED) duplicates.push({ pointer, message: 'has a key that is a list, a mapping or a tagged value; keys are plain names' });
        else if (keys.has(key) && duplicates.length < PROBLEMS_LISTED) duplicates.push({ pointer: at, message: 'is given twice in the same mapping; keep one' });
        keys.add(key);
        nodes++;
        stack.push([pair.value as Node | null, at]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => stack.push([item as Node | null, `${pointer}/${i}`]));
    } else if (isAlias(node) || isScalar(node)) {
      // Counted above; an alias is expanded (and bounded) by toJS.
    }
  }
  return duplicates;
}

/**
 * Parse scenario text (YAML or JSON) into a plain value, within the limits above.
 * @param sourceName file name for messages.
 * @throws ConfigError `TALLY_CONFIG_INVALID`: not YAML/JSON, too large, too many nodes,
 * duplicate keys (each with its pointer), or aliases that expand too far.
 */
export function parseBoundedDocument(text: string, sourceName: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > MAX_SCENARIO_BYTES) throw tooLarge(sourceName, `is larger than ${MAX_SCENARIO_BYTES} bytes; a scenario is a few KiB`);
  // uniqueKeys off: the library's check is quadratic; survey() finds duplicates linearly.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `${sourceName}: not valid YAML/JSON`,
      doc.errors.slice(0, PROBLEMS_LISTED).map((e) => ({ pointer: '', message: `line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}` })),
    );
  }
  const duplicates = survey(doc.contents as Node | null, sourceName);
  if (duplicates.length > 0) throw new ConfigError(`${sourceName}: duplicate or complex keys`, duplicates);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    // The library throws a ReferenceError for excessive aliases (and for an alias to nothing).
    const message = `uses aliases that expand to more than ${MAX_ALIAS_COUNT} copies, or an alias that names no anchor`;
    throw new ConfigError(`${sourceName}: ${message}`, [{ pointer: '', message }], { cause });
  }
}
