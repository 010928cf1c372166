// Lazily built zod schemas for the agent bundle (issue 12's lean agent). Every module of
// @edgehook/shared and @edgehook/firmware-profiles builds its schemas when it is imported: about
// 1,000 zod instances (measured with zod classic: ~5 MB of heap and ~12 MB of RSS; zod/mini now, lighter),
// of which the agent parses a handful (the RPC request and its params, stream commands, the
// telemetry ack, its config files). Result schemas are checked by the control plane.
//
// This plugin rewrites, in those packages' compiled JS only as the agent is bundled (and, through
// `rewriteLazySchemas`, as the web console is built: control-plane/web/vite.config.ts), each schema
// expression evaluated at module load (`z.object(...)...`, `Foo.extend(...)`, in a top-level
// declaration or a map's property) into `lazySchema(() => <the same expression>)`: a proxy that
// builds the schema on first use and forwards everything to it. The declarations stay the ones in
// shared/ (one per schema, types derived from them); the control plane and the tests load shared/
// unchanged. A stand-in is not the schema object: what keys on identity (zod's JSON Schema
// generation, registries) is not for the agent or the console; scripts/test/lazy-schemas.test.ts
// checks that parsing is the same for every schema.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));
const RUNTIME = join(here, 'lazy-schema.runtime.mjs');
const HELPER = '__edgehookLazySchema';

/** zod methods that derive a schema from a schema: `Foo.extend(...)` at load time builds Foo. */
const DERIVING = new Set(['extend', 'safeExtend', 'omit', 'pick', 'partial', 'required', 'merge', 'and', 'or', 'array', 'optional', 'nullable', 'nullish', 'refine', 'superRefine', 'transform', 'pipe', 'strict', 'strip', 'passthrough', 'loose', 'min', 'max', 'length', 'default', 'prefault', 'catch', 'describe', 'meta', 'brand', 'readonly', 'keyof', 'check', 'overwrite', 'int', 'positive', 'nonnegative', 'regex', 'trim', 'exclude', 'extract']);

/** The identifier a call/property chain starts from, and the first member name after it. */
function chainRoot(node) {
  let first;
  while (ts.isCallExpression(node) || ts.isPropertyAccessExpression(node)) {
    if (ts.isPropertyAccessExpression(node)) first = node.name.text;
    node = node.expression;
  }
  return ts.isIdentifier(node) ? { root: node.text, first } : undefined;
}

/** A call chain that yields a zod schema: rooted at `z`, or a deriving method on a named schema. */
function isSchemaExpression(node, schemaNames) {
  if (!ts.isCallExpression(node)) return false;
  const chain = chainRoot(node);
  if (!chain || chain.first === undefined) return false;
  if (chain.root === 'z') return true;
  return schemaNames.has(chain.root) && DERIVING.has(chain.first);
}

const isFunctionLike = (node) => ts.isFunctionLike(node) || ts.isClassLike(node);

/** Source ranges to wrap: outermost schema expressions evaluated at module load. */
export function lazySchemaRanges(source, fileName = 'module.js') {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  // Names that hold schemas: imports (resolved by their own module's rewrite) and top-level consts.
  const schemaNames = new Set();
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement) && statement.importClause?.namedBindings && ts.isNamedImports(statement.importClause.namedBindings)) {
      for (const el of statement.importClause.namedBindings.elements) if (/^[A-Z]/.test(el.name.text)) schemaNames.add(el.name.text);
    }
    if (ts.isVariableStatement(statement)) for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) schemaNames.add(d.name.text);
  }
  const ranges = [];
  const visit = (node) => {
    if (isFunctionLike(node)) return;
    // A bare statement (`z.config(...)`) keeps its effect now.
    if (ts.isExpressionStatement(node) && ts.isCallExpression(node.expression)) return;
    if (isSchemaExpression(node, schemaNames)) {
      ranges.push([node.getStart(file), node.getEnd()]);
      return;
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement)) ts.forEachChild(statement, visit);
  }
  return ranges;
}

export function rewriteLazySchemas(source, fileName) {
  const ranges = lazySchemaRanges(source, fileName);
  if (ranges.length === 0) return { code: source, count: 0 };
  let code = '';
  let at = 0;
  for (const [start, end] of ranges) {
    code += `${source.slice(at, start)}${HELPER}(() => ${source.slice(start, end)})`;
    at = end;
  }
  code += source.slice(at);
  return { code: `import { lazySchema as ${HELPER} } from ${JSON.stringify(RUNTIME)};\n${code}`, count: ranges.length };
}

/** esbuild plugin: applies the rewrite to the compiled JS of the given package directories. */
export function lazySchemas(dirs, stats = { files: 0, schemas: 0 }) {
  return {
    name: 'lazy-schemas',
    setup(b) {
      b.onLoad({ filter: /\.js$/, namespace: 'file' }, async (args) => {
        if (!dirs.some((d) => args.path.startsWith(d))) return undefined;
        const { code, count } = rewriteLazySchemas(await readFile(args.path, 'utf8'), args.path);
        stats.files += 1;
        stats.schemas += count;
        return { contents: code, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}
