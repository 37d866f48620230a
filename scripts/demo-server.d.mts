// Types of scripts/demo-server.mjs (imported by the browser tests).
export const ISOLATION_HEADERS: Record<string, string>;
export function startServer(o: { root: string; coop?: boolean; port?: number; pages?: Record<string, string> }): Promise<{ url: string; close(): Promise<void> }>;
