/**
 * The queue's data: one page of applications for the filters, keyset paging (a stack of page tokens for
 * next and previous), and live changes merged in place from the watch.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { create } from "@bufbuild/protobuf";
import { useClients } from "../api/ClientsProvider";
import { decodeError, isCancelled, type ApiError } from "../api/errors";
import { ApplicationStatus, type Application } from "../gen/globalcredit/intake/v1/application_pb";
import type { ApplicationEvent } from "../gen/globalcredit/notifier/v1/notifier_service_pb";
import { Country } from "../gen/globalcredit/type/v1/country_pb";
import { DecisionSchema } from "../gen/globalcredit/type/v1/decision_pb";
import { riskLevelOfScore } from "../domain/status";
import { useWatch } from "./useWatch";

export interface QueueFilters {
  country: Country;
  status: ApplicationStatus;
}

export const NO_FILTERS: QueueFilters = { country: Country.UNSPECIFIED, status: ApplicationStatus.UNSPECIFIED };

/** How long a row that just changed stays highlighted. */
export const HIGHLIGHT_MS = 4000;

export interface ApplicationsPage {
  rows: Application[];
  loading: boolean;
  error: ApiError | null;
  /** 1-based page number. */
  page: number;
  hasNext: boolean;
  hasPrevious: boolean;
  next(): void;
  previous(): void;
  reload(): void;
  /** Names that changed live a moment ago. */
  highlighted: ReadonlySet<string>;
  /** The latest live change on this page, for screen readers. */
  lastChange: { name: string; status: ApplicationStatus } | null;
}

function matches(filters: QueueFilters, country: Country, status: ApplicationStatus): boolean {
  return (
    (filters.country === Country.UNSPECIFIED || filters.country === country) &&
    (filters.status === ApplicationStatus.UNSPECIFIED || filters.status === status)
  );
}

function millis(application: Application): number {
  const time = application.updateTime;
  return time ? Number(time.seconds) * 1000 + time.nanos / 1e6 : 0;
}

function isOlder(candidate: Application, current: Application): boolean {
  return millis(candidate) < millis(current);
}

/** The row as the event says it is now, until the full read arrives. */
function applyEvent(application: Application, event: ApplicationEvent): Application {
  const updated: Application = { ...application, status: event.newStatus };
  if (event.riskScore) {
    const decision = application.decision ?? create(DecisionSchema);
    updated.decision = { ...decision, riskScore: event.riskScore, riskLevel: riskLevelOfScore(event.riskScore) };
  }
  return updated;
}

export function useApplications(filters: QueueFilters, pageSize = 20): ApplicationsPage {
  const { intake } = useClients();
  const { country, status } = filters;
  // tokens[i] is the page token of page i + 1; the first page's is "". A token is valid only with the
  // filters it came with, so new filters start again from the first page.
  const filtersKey = `${country}/${status}`;
  const [paging, setPaging] = useState({ filtersKey, tokens: [""] });
  const tokens = paging.filtersKey === filtersKey ? paging.tokens : [""];
  const [rows, setRows] = useState<Application[]>([]);
  const [nextToken, setNextToken] = useState("");
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  const [reloads, setReloads] = useState(0);
  const [highlighted, setHighlighted] = useState<ReadonlySet<string>>(new Set());
  const [lastChange, setLastChange] = useState<ApplicationsPage["lastChange"]>(null);
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

  const token = tokens[tokens.length - 1];

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    intake
      .listApplications({ pageSize, pageToken: token, country, status }, { signal: controller.signal })
      .then(
        (response) => {
          setRows(response.applications);
          setNextToken(response.nextPageToken);
          setError(null);
          setLoading(false);
        },
        (failure: unknown) => {
          if (controller.signal.aborted || isCancelled(failure)) return;
          setError(decodeError(failure));
          setLoading(false);
        },
      );
    return () => controller.abort();
  }, [intake, pageSize, token, country, status, reloads]);

  useEffect(() => {
    const pending = timers.current;
    return () => pending.forEach((timer) => clearTimeout(timer));
  }, []);

  const highlight = useCallback((name: string) => {
    setHighlighted((current) => new Set(current).add(name));
    clearTimeout(timers.current.get(name));
    timers.current.set(
      name,
      setTimeout(() => {
        timers.current.delete(name);
        setHighlighted((current) => {
          const next = new Set(current);
          next.delete(name);
          return next;
        });
      }, HIGHLIGHT_MS),
    );
  }, []);

  // The full application after a change (decision, level, etag), replacing the row or adding it on top.
  const refreshRow = useCallback(
    (name: string, insert: boolean) => {
      intake.getApplication({ name }).then(
        ({ application }) => {
          if (!application) return;
          setRows((current) => {
            const index = current.findIndex((row) => row.name === name);
            if (index >= 0) {
              // Two quick changes make two reads; an older answer arriving last must not win.
              if (isOlder(application, current[index])) return current;
              return current.map((row) => (row.name === name ? application : row));
            }
            return insert ? [application, ...current] : current;
          });
        },
        () => {
          // The event already updated the row; a failed refresh leaves it so.
        },
      );
    },
    [intake],
  );

  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const onFirstPage = tokens.length === 1;

  useWatch({
    onEvent(event) {
      const known = rowsRef.current.some((row) => row.name === event.name);
      if (known) {
        setLastChange({ name: event.name, status: event.newStatus });
        setRows((current) => current.map((row) => (row.name === event.name ? applyEvent(row, event) : row)));
        highlight(event.name);
        refreshRow(event.name, false);
      } else if (onFirstPage && matches(filters, event.country, event.newStatus)) {
        // New to us (created since the page loaded): newest first, so it belongs on top of page one.
        setLastChange({ name: event.name, status: event.newStatus });
        highlight(event.name);
        refreshRow(event.name, true);
      }
    },
    onGap() {
      setReloads((n) => n + 1);
    },
  });

  return {
    rows,
    loading,
    error,
    page: tokens.length,
    hasNext: nextToken !== "",
    hasPrevious: tokens.length > 1,
    next: () => {
      if (nextToken) setPaging({ filtersKey, tokens: [...tokens, nextToken] });
    },
    previous: () => {
      if (tokens.length > 1) setPaging({ filtersKey, tokens: tokens.slice(0, -1) });
    },
    reload: () => setReloads((n) => n + 1),
    highlighted,
    lastChange,
  };
}
