/**
 * The files baked into the image: the one place gen-packer asks "what does a node need?".
 * It is the boot agent's metadata-mode file set with secrets 'at-boot': the agent, its unit,
 * keepalived's fail-safe drop-in, cluster.json and every node's pre-rendered files with
 * placeholders where the secrets go. The secrets file itself comes at first boot
 * (`lbbake gen-userdata --secrets-only`), never from the image.
 */
import { metadataModeFiles } from '../agent.js';
import { type FixedSecretName, placeholder, SECRET_PATTERNS, SECRETS_PATH } from '../agent-secrets.js';
import { DUMMY_CLIENT_PEM } from '../secret-template.js';
import { sha512CryptWithSalt } from '../crypt.js';
import type { Model } from '../../compile/model.js';
import { type FileSet } from '../files.js';
import { InternalError } from '../../diagnostics/errors.js';

/** Every file the image carries, root-relative; secrets are never among them. */
export function imageFiles(m: Model): FileSet {
  const files = metadataModeFiles(m, { secrets: 'at-boot', layout: 'copies' });
  if (files.has(SECRETS_PATH.slice(1))) throw new InternalError(`${SECRETS_PATH} must never be baked into an image`);
  return files;
}

/**
 * Fixed stand-ins for the secrets, used only to check the baked files at build time. They are
 * public by design (they are in every generated project) and never reach a node's real config.
 */
const DUMMIES: Readonly<Record<FixedSecretName, string>> = {
  vrrp_auth_pass: 'lbbkchk0',
  stats_password_hash: sha512CryptWithSalt('lbbake-build-check-not-a-secret', 'lbbakebuildcheck'),
};

/**
 * Placeholders the baked files carry where secrets go at boot, each with a fixed dummy value
 * (not a secret) that makes the file checkable with haproxy -c / keepalived -t at build time.
 */
export function checkSubstitutions(_m: Model): Substitution[] {
  return (Object.keys(SECRET_PATTERNS) as FixedSecretName[]).map((name) => {
    const dummy = DUMMIES[name];
    // the script puts it in a single-quoted sed replacement with | as the delimiter
    if (!new RegExp(`^(?:${SECRET_PATTERNS[name]})$`).test(dummy) || /[|&\\']/.test(dummy)) {
      throw new InternalError(`dummy for ${name} does not fit the secret's pattern`);
    }
    // keyed like render's own values so its guard checks each with the alphabet it allows
    return name === 'stats_password_hash'
      ? { placeholder: placeholder(name), authPass: '', passwordHash: dummy }
      : { placeholder: placeholder(name), authPass: dummy, passwordHash: '' };
  });
}

/** One placeholder and its dummy value (in exactly one of authPass / passwordHash). */
export interface Substitution {
  placeholder: string;
  authPass: string;
  passwordHash: string;
}

/**
 * health.clientCert: the check writes DUMMY_CLIENT_PEM (public, not the node's) into its work
 * directory as `file` and points haproxy.cfg's `crt PATH` there, since the image never holds the
 * real one. `lines`: the PEM, line by line (each a plain token for the template).
 */
export function checkPems(m: Model): Array<{ path: string; file: string; lines: string[] }> {
  return m.services.flatMap((s, i) =>
    s.health.type === 'https' && s.health.client ? [{ path: s.health.client.path, file: `client-${i}.pem`, lines: DUMMY_CLIENT_PEM.trimEnd().split('\n') }] : [],
  );
}
