/**
 * The character sets lbbake accepts, generates and renders, in one place: the schema's patterns
 * (schema/lb.schema.json holds SCHEMA_PATTERNS, written by `node scripts/schema-patterns.mjs
 * --write`; a test keeps both equal), the renderer's guard (render/templates.ts) and the boot
 * agent's secret check are built from these.
 */

/** Characters keepalived.conf carries safely inside a quoted auth_pass (no space, quote, $, \, `, braces). */
export const AUTH_PASS_CHARS = "A-Za-z0-9!#%&()*+,./:;<=>?@\\[\\]^_|~-";
/** keepalived uses only the first 8 characters of auth_pass. */
export const AUTH_PASS_MAX = 8;
/** The auth pass as a full-match regex source (JS and Python `re` alike). */
export const AUTH_PASS_SOURCE = `[${AUTH_PASS_CHARS}]{1,${AUTH_PASS_MAX}}`;

/** Generated secrets: letters and digits without look-alikes (0/O, 1/l/I). 57 characters. */
export const SECRET_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** Dotted-quad IPv4, as a regex source (the schema's ipv4 format and every other IPv4 check). */
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
export const IPV4_SOURCE = `^${OCTET}(\\.${OCTET}){3}$`;
export const IPV4 = new RegExp(IPV4_SOURCE);

/** The header cloud-init requires on the first line of a cloud-config. */
export const CLOUD_CONFIG_HEADER = '#cloud-config';

/**
 * What the renderer's guard lets into a config as a plain token (keepalived.conf, haproxy.cfg,
 * HCL, shell): no quote, #, $, \, `, braces, ;, & or line break.
 */
export const TOKEN_CHARS = 'A-Za-z0-9_.:/+=@%,~ -';
/** An http(s) health-check path: a token that may also carry a query (? = &); haproxy takes it unquoted. */
export const HEALTH_PATH_CHARS = 'A-Za-z0-9._~/?=&%-';
/** A file: reference's path (relative to lb.yaml): no spaces, quotes or shell characters. */
export const FILE_REF_CHARS = 'A-Za-z0-9._/~+@%,=-';
/** A Linux interface name (IFNAMSIZ: at most 15 characters). */
export const IFNAME_SOURCE = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$';
export const IFNAME = new RegExp(IFNAME_SOURCE);

/**
 * How a value with this pattern reaches generated files, which decides the guard alphabet its
 * characters must stay within: `token` (TOKEN_CHARS), `health-path` (HEALTH_PATH_CHARS),
 * `auth-pass` (quoted; AUTH_PASS_CHARS), `never` (not rendered as given, e.g. hashed).
 */
export type Rendered = 'token' | 'health-path' | 'auth-pass' | 'never';

/** Guard alphabet (a regex character-class body) of each way of being rendered. */
export const GUARD_CHARS: Record<Exclude<Rendered, 'never'>, string> = {
  token: TOKEN_CHARS,
  'health-path': HEALTH_PATH_CHARS,
  'auth-pass': AUTH_PASS_CHARS,
};

/** A DNS-label-like name (GCE routes and networks, cluster and node names). */
const label = (first: string, max: number) => `^${first}([-a-z0-9]{0,${max - 2}}[a-z0-9])?$`;

/**
 * Every `pattern` in schema/lb.schema.json, by the JSON Pointer of its schema node: the
 * schema's one source. `chars`: every character the pattern admits (a class body).
 */
export const SCHEMA_PATTERNS: Record<string, { source: string; chars: string; rendered: Rendered }> = {
  // the cluster name also names images (GCE image family: a letter first, no - last)
  '/properties/name': { source: label('[a-z]', 32), chars: 'a-z0-9-', rendered: 'token' },
  '/properties/vip/properties/interface': { source: IFNAME_SOURCE, chars: 'A-Za-z0-9_.-', rendered: 'token' },
  '/properties/vip/properties/cloud/properties/routeTableIds/items': { source: '^rtb-[0-9a-f]{8,17}$', chars: 'a-z0-9-', rendered: 'token' },
  '/properties/vip/properties/cloud/properties/routeName': { source: label('[a-z]', 63), chars: 'a-z0-9-', rendered: 'token' },
  '/properties/vip/properties/cloud/properties/network': { source: label('[a-z]', 63), chars: 'a-z0-9-', rendered: 'token' },
  '/properties/vrrp/properties/auth/properties/pass': { source: `^[${AUTH_PASS_CHARS}]+$`, chars: AUTH_PASS_CHARS, rendered: 'auth-pass' },
  '/properties/vrrp/properties/check/properties/command': {
    source: '^/?[A-Za-z0-9_./+-]+( [A-Za-z0-9_./:+=@%-]+)*$',
    chars: 'A-Za-z0-9_./:+=@% -',
    rendered: 'token',
  },
  '/properties/nodes/items/properties/name': { source: label('[a-z0-9]', 63), chars: 'a-z0-9-', rendered: 'token' },
  '/properties/services/items/properties/name': { source: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$', chars: 'A-Za-z0-9_.-', rendered: 'token' },
  '/properties/services/items/properties/health/properties/path': { source: `^/[${HEALTH_PATH_CHARS}]*$`, chars: HEALTH_PATH_CHARS, rendered: 'health-path' },
  // file: references to PEM files, read by lbbake (their content goes to the node as a secret)
  '/properties/services/items/properties/health/properties/clientCert/properties/cert': { source: `^file:[${FILE_REF_CHARS}]+$`, chars: `:${FILE_REF_CHARS}`, rendered: 'never' },
  '/properties/services/items/properties/health/properties/clientCert/properties/key': { source: `^file:[${FILE_REF_CHARS}]+$`, chars: `:${FILE_REF_CHARS}`, rendered: 'never' },
  // a DNS name haproxy resolves (server-template)
  '/properties/services/items/properties/dns/properties/name': { source: '^[A-Za-z0-9_.-]{1,253}$', chars: 'A-Za-z0-9_.-', rendered: 'token' },
  '/properties/services/items/properties/servers/items/properties/name': { source: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$', chars: 'A-Za-z0-9_.-', rendered: 'token' },
  '/properties/stats/properties/bind': { source: `^(node|${IPV4_SOURCE.slice(1, -1)})$`, chars: 'a-z0-9.', rendered: 'token' },
  '/properties/metrics/properties/bind': { source: `^(node|${IPV4_SOURCE.slice(1, -1)})$`, chars: 'a-z0-9.', rendered: 'token' },
  '/properties/stats/properties/uri': { source: '^/[A-Za-z0-9._~/-]*$', chars: 'A-Za-z0-9._~/-', rendered: 'token' },
  '/properties/stats/properties/user': { source: '^[A-Za-z0-9._-]{1,32}$', chars: 'A-Za-z0-9._-', rendered: 'token' },
  // hashed before it reaches haproxy.cfg
  '/properties/stats/properties/password': { source: '^[ -~]+$', chars: ' -~', rendered: 'never' },
  '/properties/identity/properties/metadataKey': { source: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$', chars: 'A-Za-z0-9_.-', rendered: 'token' },
};
