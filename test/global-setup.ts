import { buildWebIfStale } from './helpers/browser.js';

/**
 * Runs once before any test file: the e2e files run side by side (two workers), and each asks for
 * a fresh web/dist; built here first, none of them rebuilds it under another's feet.
 */
export default function setup(): void {
  buildWebIfStale();
}
