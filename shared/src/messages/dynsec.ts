import * as z from '../zod.js';

/**
 * Mosquitto 2's dynamic security plugin answers on `$CONTROL/dynamic-security/v1/response`
 * with one entry per command, echoing its correlationData (mosquitto 2.0.11, read and replayed
 * in control-plane/test/broker/). `data` is command-specific (listClients, getClient...).
 */
export const DynsecResponse = z.object({
  command: z.string(),
  correlationData: z.optional(z.string()),
  error: z.optional(z.string()),
  data: z.optional(z.unknown()),
});
export type DynsecResponse = z.infer<typeof DynsecResponse>;

export const DynsecResponses = z.object({ responses: z.array(DynsecResponse).check(z.maxLength(10_000)) });

/** `listClients` with verbose=true: what reconciliation needs of each client. */
export const DynsecClientList = z.object({
  totalCount: z.optional(z.number()),
  clients: z.array(
    z.union([
      z.string(),
      z.object({
        username: z.string(),
        clientid: z.optional(z.string()),
        disabled: z.optional(z.boolean()),
        roles: z.optional(z.array(z.object({ rolename: z.string() }))),
      }),
    ]),
  ),
});

/** `getClient`: the client's roles. */
export const DynsecClientInfo = z.object({
  client: z.object({ username: z.string(), disabled: z.optional(z.boolean()), roles: z.optional(z.array(z.object({ rolename: z.string() }))) }),
});
