import { Agent, type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * An http.Agent whose one connection is a relayed stream: node:http and ws speak their protocol
 * over it as over a socket. No keep-alive: each proxied request has its own device connection.
 */
export class RelayAgent extends Agent {
  constructor(private readonly connection: Duplex) {
    super({ keepAlive: false, maxSockets: 1 });
  }

  override createConnection(_options: ClientRequestArgs): Duplex {
    return this.connection;
  }
}
