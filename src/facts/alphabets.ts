/**
 * The character sets lbbake accepts, generates and renders, in one place: the schema's patterns,
 * the renderer's guard and the boot agent's secret check are built from these.
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
export const IPV4_SOURCE = '^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$';
export const IPV4 = new RegExp(IPV4_SOURCE);

/** The header cloud-init requires on the first line of a cloud-config. */
export const CLOUD_CONFIG_HEADER = '#cloud-config';
