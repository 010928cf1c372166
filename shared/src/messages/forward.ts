import * as z from '../zod.js';

/**
 * Port forwarding (issue 19): a TCP connection the agent opens to an address the device can reach,
 * carried as a `tcp-forward` byte stream (channel 1 both ways) under the relay's credit.
 * Which destinations a device allows is the agent's choice (`--forward-allow`); names are resolved
 * on the device and the resolved address is what the allow list is checked against.
 */
export const ForwardHost = z.string().check(z.minLength(1), z.maxLength(253), z.regex(/^[A-Za-z0-9._:%-]+$/, 'a host name or an IP address (IPv6 without brackets)'));
export const ForwardPort = z.coerce.number().check(z.int(), z.gte(1, 'a port from 1 to 65535'), z.lte(65535, 'a port from 1 to 65535'));

export const ForwardSpec = z.strictObject({ host: ForwardHost, port: ForwardPort });
export type ForwardSpec = z.infer<typeof ForwardSpec>;

/** The address the agent connected to (the resolved one, not the name asked for). */
export const ForwardOpened = z.object({ address: z.string().check(z.maxLength(64)), port: z.number().check(z.int(), z.gte(1), z.lte(65535)) });
export type ForwardOpened = z.infer<typeof ForwardOpened>;

/** Query of the `/api/devices/:id/forward` websocket. */
export const ForwardQuery = z.object({ host: z._default(ForwardHost, '127.0.0.1'), port: ForwardPort });
export type ForwardQuery = z.infer<typeof ForwardQuery>;

/** Client -> control plane text frames on the forward socket (binary frames are the bytes). */
export const ForwardClientMessage = z.discriminatedUnion('type', [
  /** The local side finished sending (TCP FIN): the device half-closes its connection. */
  z.object({ type: z.literal('close-input') }),
]);
export type ForwardClientMessage = z.infer<typeof ForwardClientMessage>;

/** Control plane -> client text frames on the forward socket. */
export const ForwardServerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('opened'), info: ForwardOpened }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
  /** The destination closed (or failed after opening: `reason`); every byte before it was delivered. */
  z.object({ type: z.literal('end'), ok: z.boolean(), reason: z.optional(z.string()) }),
]);
export type ForwardServerMessage = z.infer<typeof ForwardServerMessage>;

/** The path segment after `/proxy/`: the device-local port. */
export const ProxyPortParam = z.coerce.number().check(z.int(), z.gte(1), z.lte(65535), z.describe('port on the device (127.0.0.1)'));
