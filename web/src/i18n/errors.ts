/** Backend errors in the UI language: by ErrorInfo reason when we know it, else by gRPC code. */
import { Code } from "@connectrpc/connect";
import type { ApiError, FieldViolation } from "../api/errors";
import type { Params } from "./I18nProvider";
import { isMessageKey, type MessageKey } from "./messages";

type Translate = (key: MessageKey, params?: Params) => string;

const BY_CODE: Partial<Record<Code, MessageKey>> = {
  [Code.Unauthenticated]: "error.code.unauthenticated",
  [Code.PermissionDenied]: "error.code.permissionDenied",
  [Code.NotFound]: "error.code.notFound",
  [Code.Aborted]: "error.code.aborted",
  [Code.FailedPrecondition]: "error.code.failedPrecondition",
  [Code.InvalidArgument]: "error.code.invalidArgument",
  [Code.AlreadyExists]: "error.code.alreadyExists",
  [Code.ResourceExhausted]: "error.code.resourceExhausted",
  [Code.Unavailable]: "error.code.unavailable",
  [Code.DeadlineExceeded]: "error.code.deadlineExceeded",
  [Code.Canceled]: "error.code.canceled",
};

/** `status` metadata values (`UNDER_REVIEW`) as words. */
function statusWords(t: Translate, value: string | undefined): string {
  if (!value) return "";
  const key = `status.${value.replace(/^APPLICATION_STATUS_/, "")}`;
  return isMessageKey(key) ? t(key) : value;
}

export function errorMessage(t: Translate, error: ApiError): string {
  const params: Params = {
    ...error.metadata,
    from: statusWords(t, error.metadata.from),
    to: statusWords(t, error.metadata.to),
    detail: error.message,
  };
  const byReason = error.reason ? `error.${error.reason}` : "";
  if (isMessageKey(byReason)) return t(byReason, params);
  const byCode = BY_CODE[error.code];
  if (byCode) return t(byCode, params);
  return t("error.unknown", params);
}

/** A field violation in words, with the country's limits where the reason needs them. */
export function violationMessage(t: Translate, violation: FieldViolation, params: Params = {}): string {
  const key = `violation.${violation.reason}`;
  if (violation.reason && isMessageKey(key)) return t(key, params);
  return violation.description || t("violation.unknown");
}
