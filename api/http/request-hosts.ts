import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';

const LOOPBACK = ['127.0.0.1', '[::1]', 'localhost'];
const WILDCARDS = ['0.0.0.0', '::', '[::]'];
/** Paths that answer whatever name they were addressed to: load balancers probe by IP address. */
const ANY_HOST = new Set(['/healthz']);

/**
 * Which host names requests may be addressed to: PUBLIC_URL's, ALLOWED_HOSTS (".example.com"
 * with its subdomains), and HOST itself unless it is every interface; a loopback HOST also takes
 * the other loopback names. A page on another site that rebinds its own name to this server's
 * address (DNS rebinding) sends its own name, and is refused.
 */
export function hostAllowed(config: Pick<Config, 'host' | 'publicUrl' | 'allowedHosts'>): (hostname: string) => boolean {
  const exact = new Set<string>(config.allowedHosts.filter((h) => !h.startsWith('.')));
  const suffixes = config.allowedHosts.filter((h) => h.startsWith('.'));
  if (config.publicUrl) exact.add(config.publicUrl.hostname.toLowerCase());
  const host = config.host.toLowerCase();
  const listening = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  if (!WILDCARDS.includes(host)) exact.add(listening);
  if (LOOPBACK.includes(listening) || listening.startsWith('127.')) for (const name of LOOPBACK) exact.add(name);
  return (hostname) => exact.has(hostname) || suffixes.some((s) => hostname.endsWith(s) || hostname === s.slice(1));
}

/** The host name of a Host header or an Origin ("http://name:port"), lowercased; null when it is not one. */
function hostnameOf(value: string, isOrigin: boolean): string | null {
  if (value.length > 300) return null;
  try {
    const url = new URL(isOrigin ? value : `http://${value}`);
    if (!isOrigin && (url.pathname !== '/' || url.username || url.search || url.hash)) return null;
    return url.hostname.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * Refuses (403, before anything else runs) a request whose Host, or whose Origin when a browser
 * sends one, names a host this server is not reached by.
 */
export function refuseForeignHosts(config: Pick<Config, 'host' | 'publicUrl' | 'allowedHosts'>, logger: Logger) {
  const allowed = hostAllowed(config);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (ANY_HOST.has(req.path)) return next();
    const host = req.headers.host ?? '';
    const origin = req.headers.origin;
    const hostname = hostnameOf(host, false);
    let refused: string | null = null;
    if (hostname === null || !allowed(hostname)) refused = `requests addressed to host ${JSON.stringify(host.slice(0, 100))} are not accepted here`;
    else if (origin !== undefined) {
      const from = hostnameOf(origin, true);
      if (from === null || !allowed(from)) refused = `requests from pages of ${JSON.stringify(origin.slice(0, 100))} are not accepted here`;
    }
    if (refused === null) return next();
    logger.warn({ host: host.slice(0, 100), origin: origin?.slice(0, 100), path: req.path.slice(0, 200) }, 'refused a request for a foreign host');
    res
      .status(403)
      .json({ errors: [{ message: `${refused}: set PUBLIC_URL or ALLOWED_HOSTS to the names people use to reach Tributary`, extensions: { code: 'FORBIDDEN' } }] });
  };
}
