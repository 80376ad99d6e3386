/**
 * Imported first by main.ts, before any schema is built: the CSP has no 'unsafe-eval', so zod
 * must not probe `new Function` (zod decides when each object schema is constructed, and each
 * probe files a CSP violation report) and validates with its interpreter instead.
 */
import { config } from 'zod';

config({ jitless: true });
