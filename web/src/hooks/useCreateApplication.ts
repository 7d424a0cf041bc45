/**
 * Submitting a new application exactly once. One `request_id` belongs to the form until an application
 * is created: a double click, a retry after a lost answer or after fixing a field all send the same id,
 * so the server never creates two applications for one form. Only a created application (or the server
 * saying the id was used for other data) makes a fresh one.
 */
import { useCallback, useRef, useState } from "react";
import { useClients } from "../api/ClientsProvider";
import { decodeError, type ApiError } from "../api/errors";
import type { Application } from "../gen/globalcredit/intake/v1/application_pb";
import type { CreateApplicationRequest } from "../gen/globalcredit/intake/v1/intake_service_pb";

export type SubmitResult = { ok: true; application: Application } | { ok: false; error: ApiError };

export function newRequestId(): string {
  return crypto.randomUUID();
}

export function useCreateApplication() {
  const { intake } = useClients();
  const requestId = useRef<string>(newRequestId());
  const inFlight = useRef<Promise<SubmitResult> | null>(null);
  const [submitting, setSubmitting] = useState(false);

  /** Sends the request built for the form's request id; a second call while one runs joins it. */
  const submit = useCallback(
    (build: (requestId: string) => CreateApplicationRequest): Promise<SubmitResult> => {
      if (inFlight.current) return inFlight.current;
      setSubmitting(true);
      const attempt = intake
        .createApplication(build(requestId.current))
        .then(
          (response): SubmitResult => {
            requestId.current = newRequestId();
            if (!response.application) throw new Error("CreateApplication answered without an application");
            return { ok: true, application: response.application };
          },
          (error: unknown): SubmitResult => {
            const decoded = decodeError(error);
            if (decoded.reason === "REQUEST_ID_REUSED") requestId.current = newRequestId();
            return { ok: false, error: decoded };
          },
        )
        .finally(() => {
          inFlight.current = null;
          setSubmitting(false);
        });
      inFlight.current = attempt;
      return attempt;
    },
    [intake],
  );

  /** For a new, empty form. */
  const reset = useCallback(() => {
    requestId.current = newRequestId();
  }, []);

  return { submit, submitting, reset, requestId: () => requestId.current };
}
