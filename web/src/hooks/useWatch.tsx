/**
 * One live stream of status changes for the whole console (`NotifierService.WatchApplications`).
 *
 * It reconnects by itself with exponential backoff and full jitter, resuming after the last event's
 * `resume_token`, so nothing is missed across a reconnect. When it cannot resume (no event received
 * yet, or the token expired), it tells its listeners there may be a gap, and they reload.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { ApplicationEvent } from "../gen/globalcredit/notifier/v1/notifier_service_pb";
import { useClients } from "../api/ClientsProvider";
import type { Clients } from "../api/client";

export type WatchState =
  /** First connection under way. */
  | "connecting"
  /** Connected: changes arrive as they happen. */
  | "live"
  /** Lost; trying again after a pause. */
  | "reconnecting"
  /** Given up: the caller may not watch (PERMISSION_DENIED) or is signed out. */
  | "off";

export interface WatchListener {
  onEvent?(event: ApplicationEvent): void;
  /** Connected again after a break in which events may have been missed: reload what you show. */
  onGap?(): void;
}

export interface WatchHandle {
  state: WatchState;
  subscribe(listener: WatchListener): () => void;
}

export interface Backoff {
  /** Milliseconds to wait before attempt `attempt` (1 for the first retry). */
  delay(attempt: number): number;
}

export const exponentialBackoff = (baseMs = 500, maxMs = 30_000, random = Math.random): Backoff => ({
  delay: (attempt) => Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1))) + 100,
});

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs the stream until `signal` aborts; pure of React so that it reads top to bottom. */
export async function runWatch(
  clients: Clients,
  signal: AbortSignal,
  backoff: Backoff,
  report: {
    state(state: WatchState): void;
    event(event: ApplicationEvent): void;
    gap(): void;
  },
): Promise<void> {
  let resumeToken = "";
  let attempt = 0;
  let everConnected = false;
  while (!signal.aborted) {
    report.state(everConnected ? "reconnecting" : "connecting");
    try {
      const stream = clients.notifier.watchApplications(
        { resumeToken },
        {
          signal,
          timeoutMs: 0, // a watch has no deadline
          onHeader: () => {
            // The server sends its headers as soon as the watch is registered.
            // Without a token to resume from, changes made before this moment may not have been seen
            // (by the page loaded before the watch began, or across a break): listeners reload.
            attempt = 0;
            everConnected = true;
            report.state("live");
            if (!resumeToken) report.gap();
          },
        },
      );
      for await (const response of stream) {
        const event = response.event;
        if (!event) continue;
        if (event.resumeToken) resumeToken = event.resumeToken;
        report.event(event);
      }
      // The server ended the stream (draining): resume at once, then back off if it keeps happening.
    } catch (error) {
      if (signal.aborted) return;
      const code = ConnectError.from(error).code;
      if (code === Code.Unauthenticated || code === Code.PermissionDenied) {
        report.state("off");
        return;
      }
      if (code === Code.OutOfRange || code === Code.InvalidArgument) {
        // The token is too old (or not ours): start again from now, and reload whatever is shown.
        resumeToken = "";
      }
    }
    if (signal.aborted) return;
    report.state("reconnecting");
    attempt += 1;
    await sleep(backoff.delay(attempt), signal);
  }
}

const WatchContext = createContext<WatchHandle | null>(null);

export function WatchProvider({ children, backoff }: { children: ReactNode; backoff?: Backoff }) {
  const clients = useClients();
  const [state, setState] = useState<WatchState>("connecting");
  const listeners = useRef(new Set<WatchListener>());
  const backoffRef = useRef(backoff ?? exponentialBackoff());

  useEffect(() => {
    const controller = new AbortController();
    void runWatch(clients, controller.signal, backoffRef.current, {
      state: setState,
      event: (event) => listeners.current.forEach((listener) => listener.onEvent?.(event)),
      gap: () => listeners.current.forEach((listener) => listener.onGap?.()),
    });
    return () => controller.abort();
  }, [clients]);

  const subscribe = useCallback((listener: WatchListener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const handle = useMemo<WatchHandle>(() => ({ state, subscribe }), [state, subscribe]);
  return <WatchContext.Provider value={handle}>{children}</WatchContext.Provider>;
}

/** The watch's state, and the listener subscribed for as long as the component is mounted. */
export function useWatch(listener?: WatchListener): WatchState {
  const handle = useContext(WatchContext);
  if (!handle) throw new Error("useWatch outside WatchProvider");
  const latest = useRef(listener);
  latest.current = listener;
  const { subscribe } = handle;
  useEffect(
    () =>
      subscribe({
        onEvent: (event) => latest.current?.onEvent?.(event),
        onGap: () => latest.current?.onGap?.(),
      }),
    [subscribe],
  );
  return handle.state;
}
