/** ajv settings shared by the runtime fallback and the build-time precompiler (scripts/gen-validator.mjs). */
export const ajvOptions = { allErrors: true, strict: true, strictTypes: false } as const;

/** The ipv4 format, as a regex source (so the precompiled validator inlines it). */
export const IPV4_SOURCE = '^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$';
