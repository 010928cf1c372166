import { AGENT_SCOPE, decodeJson, encodeJson, encodeVideoFrameHeader, PerfkitDesired, PerfkitStreamKinds, topicFor, type Clock, type ConfigClassDecl, type Logger, type ReportedEntry } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { Capability } from '../capability.js';
import type { RpcHandlers } from '../devices/rpc.dispatcher.js';
import type { StreamKind } from '../streams/stream-host.js';
import type { LocalRoutes } from '../telemetry/local-http.js';
import type { TelemetrySettings } from '../telemetry/telemetry.js';
import { agentConfigClasses, settingsFromDesired } from './agent-settings.js';
import { perfkitLocalRoutes } from './perfkit-local.routes.js';
import { SessionRegistry } from './session-registry.js';

export interface PerfkitCapability extends Capability {
  registry: SessionRegistry;
  handlers: Pick<RpcHandlers, 'perfkit.interact'>;
  localRoutes: LocalRoutes;
  traced(session: string, group: string): void;
  /** The agent's own settings become the `agent` config scope (after telemetry started). */
  useAgentSettings(s: { settings(): TelemetrySettings; applySettings(next: TelemetrySettings): void }): void;
}

/** State changes come in bursts (a frame per render); one publish per this many ms at most. */
const PUBLISH_EVERY_MS = 200;

/**
 * Perfkit sessions on this device (seed 000): the registry behind the local endpoint's
 * `/v1/sessions`, its state published retained on `perfkitState`, the desired configs taken from
 * the retained `perfkitDesired`, interactions by RPC and the latest image as a `perfkit-image`
 * stream framed like the KVM screen.
 */
export function startPerfkit(deps: { clock: Clock; log: Logger; pidCheckMs?: number }): PerfkitCapability {
  const log = deps.log.child({ part: 'perfkit' });
  let link: { transport: Transport; deviceId: string } | undefined;
  let offDesired: (() => Promise<void>) | undefined;
  let offState: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastPublish = 0;
  let agentSettings: { start: TelemetrySettings; classes: ConfigClassDecl[]; apply(next: TelemetrySettings): void } | undefined;

  const publish = (): void => {
    timer = undefined;
    if (!link?.transport.connected) return;
    lastPublish = deps.clock.now();
    const l = link;
    l.transport.publish(topicFor('perfkitState', { deviceId: l.deviceId }), encodeJson(registry.state()), { qos: 1, retain: true }).catch((err: unknown) => log.debug('perfkit state not published', { err }));
  };
  const schedule = (): void => {
    if (timer) return;
    timer = setTimeout(publish, Math.max(0, PUBLISH_EVERY_MS - (deps.clock.now() - lastPublish)));
    timer.unref();
  };
  const registry = new SessionRegistry({ clock: deps.clock, onChange: schedule, ...(deps.pidCheckMs ? { pidCheckMs: deps.pidCheckMs } : {}) });

  const applyAgentScope = (): void => {
    if (!agentSettings) return;
    const { entries } = registry.desiredFor(AGENT_SCOPE);
    const { settings, reported } = settingsFromDesired(agentSettings.classes, agentSettings.start, entries);
    agentSettings.apply(settings);
    // Entries nothing asked for report their default at version 0.
    const all: ReportedEntry[] = agentSettings.classes.flatMap((c) => c.entries.map((e) => ({ key: `${c.name}.${e.name}`, value: e.default, version: 0 })));
    registry.report(AGENT_SCOPE, all.map((e) => reported.find((r) => r.key === e.key) ?? e));
  };

  const onDesired = (payload: Buffer): void => {
    if (payload.length === 0) return;
    const doc = decodeJson(PerfkitDesired, payload);
    if (!doc.ok) return log.warn('malformed desired configs', { error: doc.error });
    const touched = registry.setDesired(doc.value.entries);
    log.debug('desired configs', { seq: doc.value.seq, touched });
    if (touched.includes(AGENT_SCOPE)) applyAgentScope();
  };

  const image: StreamKind<typeof PerfkitStreamKinds.image> = {
    async open(spec, stream) {
      const f = registry.image(spec.session, spec.image, spec.seq);
      stream.write(Buffer.concat([encodeVideoFrameHeader({ length: f.jpeg.length, at: f.at / 1000, width: f.width, height: f.height, online: true }), f.jpeg]));
      stream.end({ status: 'fulfilled', value: { seq: f.seq } });
      return { seq: f.seq };
    },
  };

  return {
    name: 'perfkit',
    registry,
    localRoutes: perfkitLocalRoutes(registry),
    traced: (session, group) => registry.traced(session, group),
    handlers: { 'perfkit.interact': async (p) => registry.interact(p.session, p.image, p.events) },
    streamKinds: { [PerfkitStreamKinds.image]: image },
    useAgentSettings(s) {
      const start = s.settings();
      agentSettings = { start, classes: agentConfigClasses(start), apply: (next) => s.applySettings(next) };
      registry.declare(AGENT_SCOPE, agentSettings.classes);
      applyAgentScope();
    },
    attach(next) {
      void offDesired?.().catch(() => undefined);
      link = next;
      next.transport.subscribe(topicFor('perfkitDesired', { deviceId: next.deviceId }), (_t, payload) => onDesired(payload), { qos: 1 }).then(
        (off) => {
          if (link === next) offDesired = off;
          else void off().catch(() => undefined);
        },
        (err: unknown) => log.warn('desired configs subscription failed', { err }),
      );
      // Republished on every link state change: the broker's retained copy follows a reconnect.
      offState?.();
      offState = next.transport.onState(() => schedule());
      schedule();
    },
    close() {
      if (timer) clearTimeout(timer);
      registry.close();
      offState?.();
      void offDesired?.().catch(() => undefined);
    },
  };
}
