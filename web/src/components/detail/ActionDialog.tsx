/** Approve, reject or cancel, with the mandatory reason, against the etag the analyst looked at. */
import { useId, useState, type FormEvent } from "react";
import { Code } from "@connectrpc/connect";
import { useClients } from "../../api/ClientsProvider";
import { decodeError, type ApiError } from "../../api/errors";
import { countryInfo } from "../../domain/countries";
import { compareDecimal, formatMoney } from "../../domain/money";
import { ApplicationStatus, type Application } from "../../gen/globalcredit/intake/v1/application_pb";
import { errorMessage } from "../../i18n/errors";
import { useI18n } from "../../i18n/I18nProvider";
import { Dialog } from "../Dialog";

export type ActionKind = "approve" | "reject" | "cancel";

const MAX_REASON = 1000;

export function ActionDialog({
  kind,
  application,
  onClose,
  onDone,
  onRefresh,
}: {
  kind: ActionKind;
  application: Application;
  onClose(): void;
  onDone(application: Application): void;
  /** Read the application again (after a stale etag) and close. */
  onRefresh(): void;
}) {
  const { t } = useI18n();
  const { intake } = useClients();
  const id = useId();
  const [reason, setReason] = useState("");
  const [reasonProblem, setReasonProblem] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const info = countryInfo(application.country);
  const amount = application.requestedAmount?.amount ?? "";
  const fourEyes =
    kind === "approve" && info && amount && compareDecimal(amount, info.fourEyesThreshold) > 0
      ? formatMoney(info.fourEyesThreshold, info.currency, info.locale)
      : null;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const text = reason.trim();
    if (!text) return setReasonProblem(t("action.reason.required"));
    if (text.length > MAX_REASON) return setReasonProblem(t("action.reason.tooLong", { max: MAX_REASON }));
    setBusy(true);
    setFailure(null);
    try {
      const { name, etag } = application;
      const response =
        kind === "cancel"
          ? await intake.cancelApplication({ name, reason: text, etag })
          : await intake.updateApplicationStatus({
              name,
              etag,
              reason: text,
              status: kind === "approve" ? ApplicationStatus.APPROVED : ApplicationStatus.REJECTED,
            });
      if (response.application) onDone(response.application);
      else onRefresh();
    } catch (error) {
      const decoded = decodeError(error);
      const onReason = decoded.violations.find((violation) => violation.field === "reason");
      if (decoded.code === Code.InvalidArgument && onReason) setReasonProblem(onReason.description || t("action.reason.required"));
      else setFailure(decoded);
      setBusy(false);
    }
  }

  const stale = failure && (failure.code === Code.Aborted || failure.code === Code.FailedPrecondition);
  const denied = failure?.code === Code.PermissionDenied;

  return (
    <Dialog title={t(`action.${kind}.title`)} onClose={onClose} describedBy={`${id}-intro`}>
      <form onSubmit={submit} noValidate>
        <p id={`${id}-intro`}>{t(`action.${kind}.intro`)}</p>
        {fourEyes && (
          <p className="notice notice-info" data-four-eyes="true">
            {t("action.approve.fourEyes", { threshold: fourEyes })}
          </p>
        )}
        <div className={`field${reasonProblem ? " field-invalid" : ""}`}>
          <label htmlFor={`${id}-reason`}>{t("action.reason.label")}</label>
          <textarea
            id={`${id}-reason`}
            data-autofocus
            rows={4}
            maxLength={MAX_REASON}
            required
            aria-required="true"
            aria-invalid={reasonProblem ? true : undefined}
            aria-describedby={`${id}-reason-hint${reasonProblem ? ` ${id}-reason-error` : ""}`}
            value={reason}
            onChange={(event) => {
              setReason(event.target.value);
              setReasonProblem(null);
            }}
          />
          <p className="hint" id={`${id}-reason-hint`}>
            {t("action.reason.hint")}
          </p>
          {reasonProblem && (
            <p className="field-error" id={`${id}-reason-error`}>
              <span aria-hidden="true">⚠ </span>
              {reasonProblem}
            </p>
          )}
        </div>
        {failure && (
          <div className={`notice ${denied ? "notice-danger" : "notice-warning"}`} role="alert" data-error-code={failure.code}>
            <p>
              <strong>{t(denied ? "action.denied.title" : stale ? "action.stale.title" : "action.failed.title")}</strong>{" "}
              {errorMessage(t, failure)}
            </p>
            {stale && (
              <button type="button" className="button" onClick={onRefresh}>
                {t("action.refresh")}
              </button>
            )}
          </div>
        )}
        <div className="actions">
          <button type="button" className="button ghost" onClick={onClose}>
            {t("action.close")}
          </button>
          <button
            type="submit"
            className={`button ${kind === "approve" ? "primary" : "danger"}`}
            disabled={busy}
            aria-busy={busy}
          >
            {t(`action.${kind}.confirm`)}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
