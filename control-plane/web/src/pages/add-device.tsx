import { useState } from 'preact/hooks';
import type { CreatedEnrollmentToken } from '@edgehook/shared';
import { apiRoute } from '../lib/api.js';
import { ErrorBox, Modal, useAction } from '../lib/ui.js';

/** From a checkout built on the device (README.md); the token is pasted on stdin, never argv. */
export function agentCommand(server: string, fingerprint: string | undefined, profile: string): string {
  const pin = fingerprint ? ` --server-fingerprint ${fingerprint}` : '';
  return `sudo node agent/dist/main.js --server ${server}${pin} --enroll-token-file - \\\n  --state-dir /var/lib/edgehook-agent --profile ${profile}`;
}

export function CopyBox({ text, label, testId = 'agent-command' }: { text: string; label: string; testId?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="copy">
      <pre aria-label={label} data-testid={testId}>{text}</pre>
      <button
        type="button"
        onClick={() => {
          void navigator.clipboard?.writeText(text).then(() => setCopied(true), () => setCopied(false));
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

export function AddDevice({ onClose }: { onClose: () => void }) {
  const [tags, setTags] = useState('');
  const [expires, setExpires] = useState('86400');
  const [uses, setUses] = useState('1');
  const [profile, setProfile] = useState('raspberry-pi-4b');
  const [created, setCreated] = useState<CreatedEnrollmentToken | undefined>(undefined);
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const body = { expiresIn: Number(expires), maxUses: Math.max(1, Number(uses) || 1), tags: tags.split(/[\s,]+/).filter(Boolean) };
      setCreated(await apiRoute('enrollmentTokenCreate', { body }));
    });
  };
  return (
    <Modal open title="Add a device" onClose={onClose}>
      {!created ? (
        <form class="stack" onSubmit={submit}>
          <p class="muted">Creates an enrollment token and shows the command to run on the device.</p>
          <label>
            Tags (comma or space separated)
            <input value={tags} onInput={(e) => setTags(e.currentTarget.value)} placeholder="lab, floor-2" />
          </label>
          <div class="row">
            <label>
              Token valid for
              <select value={expires} onChange={(e) => setExpires(e.currentTarget.value)}>
                <option value="3600">1 hour</option>
                <option value="86400">1 day</option>
                <option value="604800">7 days</option>
              </select>
            </label>
            <label>
              Devices it may enroll
              <input type="number" min="1" max="1000000" value={uses} onInput={(e) => setUses(e.currentTarget.value)} />
            </label>
            <label>
              Board profile
              <select value={profile} onChange={(e) => setProfile(e.currentTarget.value)}>
                {['raspberry-pi-4b', 'raspberry-pi-5', 'raspberry-pi-zero-2w', 'pikvm-v3', 'generic-linux'].map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </select>
            </label>
          </div>
          <ErrorBox error={action.error} />
          <div class="row end">
            <button type="button" onClick={onClose}>Cancel</button>
            <button type="submit" class="primary" disabled={action.busy}>{action.busy ? 'Creating…' : 'Create token'}</button>
          </div>
        </form>
      ) : (
        <div class="stack">
          <p>On the device (Node.js 20 or later), install and enroll the agent with one command:</p>
          {created.install ? <CopyBox label="Install command" testId="install-command" text={`${created.install.command} --profile ${profile}`} /> : null}
          <p>It asks for this token (paste it; it is not shown while you type):</p>
          <CopyBox label="Enrollment token" testId="enroll-token" text={created.token} />
          {(created.install?.warnings ?? []).map((w) => (
            <p key={w} class="muted" role="note">
              {w}
            </p>
          ))}
          <details>
            <summary>Or from a checkout of this repository built on the device</summary>
            <CopyBox label="Agent command" text={agentCommand(created.install?.serverUrl ?? location.origin, created.install?.fingerprint, profile)} />
          </details>
          <p class="muted">
            The token is shown only now. It expires {new Date(created.expiresAt).toLocaleString()} and enrolls up to {created.maxUses} device(s)
            {created.tags.length ? ` tagged ${created.tags.join(', ')}` : ''}. The device appears in the list as soon as it connects.
          </p>
          <div class="row end">
            <button type="button" class="primary" onClick={onClose}>Done</button>
          </div>
        </div>
      )}
    </Modal>
  );
}
