import type { ChildProcess } from 'node:child_process';

export interface StartFakeOptions {
  /** A TOML configuration file (`serve --config`); the embedded default otherwise. */
  config?: string;
  /** Keep a JUnit report of every request at this path (`serve --junit`). */
  junit?: string;
  /** `stop()` resolves to 1 when a request broke the contract (`serve --fail-on-violation`). */
  failOnViolation?: boolean;
  /** Protect the admin API with this token (`serve --admin-token`); the API's calls send it. */
  adminToken?: string;
  /** The port; 0 (the default) picks a free one. */
  port?: number;
  /** More `serve` arguments. */
  args?: string[];
  /** The binary; by default EINVOICE_MOCK_BINARY, else the installed platform package's. */
  binary?: string;
  /** How long to wait for the `listening on` line (default 30000). */
  startTimeoutMs?: number;
}

/** A scenario for `POST /__admin/scenarios` (see the README's admin API). */
export interface Scenario {
  operation: string;
  respond?: string;
  times?: number;
  match?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface JournalEntry {
  id: number;
  received_at: string;
  method: string;
  path: string;
  operation: string | null;
  status: number;
  verdict: 'conforms' | 'violates' | 'unknown';
  violations: unknown[];
  scenario: number | null;
  body?: string;
  headers?: [string, string][];
  [key: string]: unknown;
}

/** `GET /__admin/requests`: the entries, the summary, and any field the server adds (a cursor). */
export interface Journal {
  summary: { requests: number; conforming: number; violating: number; violations: number };
  requests: JournalEntry[];
  next?: string | number | null;
  [key: string]: unknown;
}

export interface JournalQuery {
  operation?: string;
  verdict?: 'conforms' | 'violates' | 'unknown';
  status?: number;
  since?: string;
  limit?: number;
  [key: string]: string | number | undefined;
}

export interface Fake {
  /** The base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  process: ChildProcess;
  /** Arm a scenario (or an array of them); resolves to the armed scenario with its `id`. */
  arm(scenario: Scenario | Scenario[]): Promise<any>;
  /** Disarm every scenario. */
  disarm(): Promise<unknown>;
  journal(query?: JournalQuery): Promise<Journal>;
  violations(): Promise<Journal>;
  /** `GET /__admin/coverage`: per operation, documented answers received and fields sent. */
  coverage(): Promise<{ operations: unknown[]; [key: string]: unknown }>;
  /** Seed state back, scenarios disarmed, journal emptied. */
  reset(): Promise<unknown>;
  /** SIGTERM and wait: resolves to the exit status (1: `failOnViolation` and a violation). */
  stop(): Promise<number>;
}

export function startFake(options?: StartFakeOptions): Promise<Fake>;
/** The native binary this package runs. */
export function binaryPath(): string;
