/**
 * Module resolution hooks (node:module register) that append every URL the
 * process resolves to the file named in `data.log`, one a line. Written
 * synchronously, so the log is complete once an import has settled.
 */
import { appendFileSync } from "node:fs";

interface Resolved {
  url: string;
}
type NextResolve = (specifier: string, context: unknown) => Promise<Resolved>;

let log = "";

export function initialize(data: { log: string }): void {
  log = data.log;
}

export async function resolve(specifier: string, context: unknown, next: NextResolve): Promise<Resolved> {
  const resolved = await next(specifier, context);
  appendFileSync(log, `${resolved.url}\n`);
  return resolved;
}
