/** One application and its audit trail, read again whenever the watch reports a change to it. */
import { useCallback, useEffect, useState } from "react";
import { useClients } from "../api/ClientsProvider";
import { decodeError, isCancelled, type ApiError } from "../api/errors";
import type { Application, AuditEvent } from "../gen/globalcredit/intake/v1/application_pb";
import { useWatch } from "./useWatch";

/** Enough for any real trail; pages beyond are fetched up to this many entries. */
const MAX_EVENTS = 1000;

export interface ApplicationView {
  application: Application | null;
  events: AuditEvent[];
  loading: boolean;
  error: ApiError | null;
  /** The trail could not be read (the application could). */
  eventsError: ApiError | null;
  reload(): void;
  /** After an action answered with the application as it now is. */
  replace(application: Application): void;
}

export function useApplication(name: string): ApplicationView {
  const { intake } = useClients();
  const [application, setApplication] = useState<Application | null>(null);
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | null>(null);
  const [eventsError, setEventsError] = useState<ApiError | null>(null);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    setLoading(true);
    const readApplication = intake.getApplication({ name }, { signal }).then(
      (response) => {
        setApplication(response.application ?? null);
        setError(null);
      },
      (failure: unknown) => {
        if (!signal.aborted && !isCancelled(failure)) setError(decodeError(failure));
      },
    );
    const readTrail = (async () => {
      const all: AuditEvent[] = [];
      let pageToken = "";
      do {
        const page = await intake.listApplicationEvents({ name, pageSize: 200, pageToken }, { signal });
        all.push(...page.events);
        pageToken = page.nextPageToken;
      } while (pageToken && all.length < MAX_EVENTS);
      return all;
    })().then(
      (all) => {
        setEvents(all);
        setEventsError(null);
      },
      (failure: unknown) => {
        if (!signal.aborted && !isCancelled(failure)) setEventsError(decodeError(failure));
      },
    );
    void Promise.all([readApplication, readTrail]).then(() => {
      if (!signal.aborted) setLoading(false);
    });
    return () => controller.abort();
  }, [intake, name, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useWatch({
    onEvent(event) {
      if (event.name === name) reload();
    },
    onGap: reload,
  });

  const replace = useCallback(
    (next: Application) => {
      setApplication(next);
      reload(); // the trail has a new entry
    },
    [reload],
  );

  return { application, events, loading, error, eventsError, reload, replace };
}
