/** ajv settings shared by the runtime fallback and the build-time precompiler (scripts/gen-validator.mjs). */
export const ajvOptions = { allErrors: true, strict: true, strictTypes: false } as const;

/** The ipv4 format, as a regex source (so the precompiled validator inlines it). */
export { IPV4_SOURCE } from '../facts/alphabets.js';
