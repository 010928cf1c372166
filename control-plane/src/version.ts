/** The control plane's version: /api/health, the OpenAPI document, `edgehook --version`. */
export const VERSION = '0.1.0';
