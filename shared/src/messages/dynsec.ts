import { z } from 'zod';

/**
 * Mosquitto 2's dynamic security plugin answers on `$CONTROL/dynamic-security/v1/response`
 * with one entry per command, echoing its correlationData (mosquitto 2.0.11, read and replayed
 * in control-plane/test/broker/). `data` is command-specific (listClients, getClient...).
 */
export const DynsecResponse = z.object({
  command: z.string(),
  correlationData: z.string().optional(),
  error: z.string().optional(),
  data: z.unknown().optional(),
});
export type DynsecResponse = z.infer<typeof DynsecResponse>;

export const DynsecResponses = z.object({ responses: z.array(DynsecResponse).max(10_000) });

/** `listClients` with verbose=true: what reconciliation needs of each client. */
export const DynsecClientList = z.object({
  totalCount: z.number().optional(),
  clients: z.array(
    z.union([
      z.string(),
      z.object({
        username: z.string(),
        clientid: z.string().optional(),
        disabled: z.boolean().optional(),
        roles: z.array(z.object({ rolename: z.string() })).optional(),
      }),
    ]),
  ),
});

/** `getClient`: the client's roles. */
export const DynsecClientInfo = z.object({
  client: z.object({ username: z.string(), disabled: z.boolean().optional(), roles: z.array(z.object({ rolename: z.string() })).optional() }),
});
