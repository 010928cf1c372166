import * as z from '@edgehook/shared/zod';
import type { RouteSpec } from '@edgehook/shared/rest';

type Json = Record<string, unknown>;

/** `/api/devices/:id` -> `/api/devices/{id}`. */
export function openapiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** JSON Schema of what a client sends (`io: 'input'`) or receives; never throws on exotic types. */
function schemaOf(schema: z.ZodMiniType, io: 'input' | 'output', target: 'draft-2020-12' | 'openapi-3.0'): Json {
  const out = z.toJSONSchema(schema, { io, target, unrepresentable: 'any' });
  delete out['$schema'];
  return out;
}

const SECURITY: Record<string, Json> = {
  bearer: { type: 'http', scheme: 'bearer', description: 'An access token from POST /api/auth/login (or an API token)' },
  cookie: { type: 'apiKey', in: 'cookie', name: 'auth_token', description: 'The session cookie set at login' },
  basic: { type: 'http', scheme: 'basic', description: 'Username and password (a TOTP code may be appended)' },
  kvmd: { type: 'apiKey', in: 'header', name: 'X-KVMD-User', description: "PiKVM's headers: X-KVMD-User with X-KVMD-Passwd" },
};

function queryParameters(spec: RouteSpec, target: 'draft-2020-12' | 'openapi-3.0'): Json[] {
  if (!spec.query) return [];
  // zod's own JSON Schema type, so properties and required are read without a cast.
  const s = z.toJSONSchema(spec.query, { io: 'input', target, unrepresentable: 'any' });
  const props = s.properties ?? {};
  const required = new Set(s.required ?? []);
  return Object.entries(props).map(([name, schema]) => ({ name, in: 'query', required: required.has(name), schema }));
}

function mediaOf(kind: string | undefined): string {
  return kind === 'text' ? 'text/plain' : kind === 'binary' ? 'application/octet-stream' : kind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
}

function errorResponses(spec: RouteSpec): Json {
  const text = { content: { 'text/plain': { schema: { type: 'string' } } } };
  const shape: Json =
    spec.errors === 'pow-text' ? text
    : spec.errors === 'encedeus' ? { content: { 'application/json': { schema: { $ref: '#/components/schemas/EncedeusError' } } } }
    : spec.errors === 'pikvm' ? { content: { 'application/json': { schema: { $ref: '#/components/schemas/PikvmError' } } } }
    : { content: { 'application/json': { schema: { $ref: '#/components/schemas/ApiError' } } } };
  const out: Json = { '400': { description: 'Bad request', ...shape } };
  if (!spec.auth.includes('none')) Object.assign(out, { '401': { description: 'No credentials', ...shape }, '403': { description: 'Wrong credentials or a missing permission', ...shape } });
  if (spec.device) out['404'] = { description: 'No such device', ...shape };
  if (spec.device === 'online') out['409'] = { description: 'The device is offline', ...shape };
  return out;
}

function operation(name: string, spec: RouteSpec): Json {
  const params = Object.entries(spec.params ?? {}).map(([p, schema]) => ({ name: p, in: 'path', required: true, schema: schemaOf(schema, 'input', 'draft-2020-12'), ...(z.globalRegistry.get(schema)?.description ? { description: z.globalRegistry.get(schema)?.description } : {}) }));
  const op: Json = {
    operationId: name,
    summary: spec.summary,
    tags: [spec.tag],
    description: spec.permission === null ? 'Permission: none beyond signing in' : spec.permission === 'self' ? 'Permission: your own account, or users.admin' : `Permission: ${spec.permission}`,
    'x-permission': spec.permission,
    parameters: [...params, ...queryParameters(spec, 'draft-2020-12')],
    security: spec.auth.includes('none') ? [{}] : spec.auth.map((a) => ({ [a]: [] })),
    responses: {
      [String(spec.status ?? 200)]:
        spec.resultKind === 'empty' ? { description: 'Done' } : { description: 'Success', content: { [mediaOf(spec.resultKind)]: { schema: schemaOf(spec.result, 'output', 'draft-2020-12') } } },
      ...errorResponses(spec),
    },
  };
  if (spec.body) op['requestBody'] = { required: spec.bodyKind !== undefined && spec.bodyKind !== 'json', content: { [mediaOf(spec.bodyKind)]: { schema: schemaOf(spec.body, 'input', 'draft-2020-12') } } };
  return op;
}

/** The OpenAPI 3.1 document of a route map. Paths with a wildcard (the docs themselves) are left out. */
export function buildOpenApi(routes: Readonly<Record<string, RouteSpec>>, info: { version: string }): Json {
  const paths: Record<string, Json> = {};
  for (const [name, spec] of Object.entries(routes)) {
    if (spec.path.includes('*')) continue;
    const path = openapiPath(spec.path);
    paths[path] = { ...(paths[path] ?? {}), [spec.method.toLowerCase()]: operation(name, spec) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Edgehook API', version: info.version, description: 'The control plane REST API, generated from the route map in shared/src/rest/. Compatibility APIs: PiKVM (/kvm/{deviceId}/api), Encedeus (/auth, /user, /role), pow-1 (/api/devices/{id}/pow).' },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: SECURITY,
      schemas: {
        ApiError: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } } },
        PikvmError: { type: 'object', required: ['ok', 'result'], properties: { ok: { const: false }, result: { type: 'object', properties: { error: { type: 'string' }, error_msg: { type: 'string' } } } } },
        EncedeusError: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
      },
    },
  };
}

/**
 * The pow-1 mirror's own document, shaped like the Go server's openapi.json (OpenAPI 3.0, paths
 * relative to the mirror, errors as text/plain), so pow-1 clients and tools find what they know.
 */
export function buildPowOpenApi(routes: Readonly<Record<string, RouteSpec>>, base: string): Json {
  const paths: Record<string, Json> = {};
  const prefix = '/api/devices/:id/pow';
  for (const [name, spec] of Object.entries(routes)) {
    if (!spec.path.startsWith(prefix + '/') || spec.path.endsWith('/openapi.json') || spec.path.endsWith('/actions')) continue;
    const path = openapiPath(spec.path.slice(prefix.length)).replace('{pid}', '{id}');
    const text = (example: string) => ({ content: { 'text/plain': { schema: { type: 'string', example } } } });
    const parameters = spec.params && 'pid' in spec.params ? [{ name: 'id', description: 'ID of process', in: 'path', required: true, schema: { type: 'string' } }] : [];
    const success = spec.resultKind === 'text' ? { description: `Success: ${spec.summary}`, ...text(String(spec.result instanceof z.ZodMiniLiteral ? spec.result.def.values[0] : '')) } : { description: `Success: ${spec.summary}`, content: { 'application/json': { schema: schemaOf(spec.result, 'output', 'openapi-3.0') } } };
    const op: Json = {
      summary: spec.summary,
      operationId: name,
      ...(parameters.length ? { parameters } : {}),
      responses: { '200': success, '400': { description: 'Error: Bad Request', ...text('failed to decode call message') }, ...(parameters.length ? { '404': { description: 'Error: Not Found', ...text('process not found') } } : {}), '500': { description: 'Error: Internal Server Error', ...text('internal server error') } },
    };
    if (spec.body) op['requestBody'] = { required: true, content: { [spec.bodyKind === 'text' ? 'text/plain' : 'application/json']: { schema: schemaOf(spec.body, 'input', 'openapi-3.0') } } };
    paths[path] = { ...(paths[path] ?? {}), [spec.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Process Over Websocket API', description: "Allows a client to run server-defined processes via REST (Edgehook's pow-1 mirror for one device).", version: '1.0.0' },
    servers: [{ url: base }],
    paths,
  };
}
