import { timestampDate } from "@bufbuild/protobuf/wkt";
import { statusLook } from "../../domain/status";
import { ApplicationStatus, AuditEventKind, type AuditEvent } from "../../gen/globalcredit/intake/v1/application_pb";
import type { ApiError } from "../../api/errors";
import { errorMessage } from "../../i18n/errors";
import { useI18n } from "../../i18n/I18nProvider";

function kindKey(kind: AuditEventKind) {
  switch (kind) {
    case AuditEventKind.CREATED:
      return "CREATED" as const;
    case AuditEventKind.STATUS_CHANGED:
      return "STATUS_CHANGED" as const;
    case AuditEventKind.BANK_CONFIRMATION_RECORDED:
      return "BANK_CONFIRMATION_RECORDED" as const;
    case AuditEventKind.PII_REVEALED:
      return "PII_REVEALED" as const;
    case AuditEventKind.APPROVAL_REQUESTED:
      return "APPROVAL_REQUESTED" as const;
    case AuditEventKind.PII_ERASED:
      return "PII_ERASED" as const;
    default:
      return "UNSPECIFIED" as const;
  }
}

/** Every recorded step: when, who, which transition and why. */
export function AuditTrail({ events, error }: { events: AuditEvent[]; error: ApiError | null }) {
  const { t, formatDateTime } = useI18n();
  const status = (value: ApplicationStatus) => t(`status.${statusLook(value).key}`);
  return (
    <section className="card wide" aria-labelledby="audit-title">
      <h2 id="audit-title">{t("detail.audit.title")}</h2>
      {error && (
        <p className="notice notice-danger" role="alert">
          {errorMessage(t, error)}
        </p>
      )}
      {events.length === 0 && !error ? (
        <p className="muted">{t("detail.audit.none")}</p>
      ) : (
        <table className="table compact audit">
          <thead>
            <tr>
              <th scope="col">{t("detail.audit.time")}</th>
              <th scope="col">{t("detail.audit.actor")}</th>
              <th scope="col">{t("detail.audit.what")}</th>
              <th scope="col">{t("detail.audit.transition")}</th>
              <th scope="col">{t("detail.audit.reason")}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={String(event.sequence)} data-sequence={String(event.sequence)}>
                <td className="small">{event.occurTime ? formatDateTime(timestampDate(event.occurTime)) : "—"}</td>
                <td className="mono">{event.actor || "—"}</td>
                <td>{t(`audit.kind.${kindKey(event.kind)}`)}</td>
                <td>
                  {event.toStatus !== ApplicationStatus.UNSPECIFIED &&
                  (event.kind === AuditEventKind.CREATED ||
                    event.kind === AuditEventKind.STATUS_CHANGED ||
                    event.fromStatus !== event.toStatus) ? (
                    <span className="transition">
                      {event.fromStatus !== ApplicationStatus.UNSPECIFIED && (
                        <>
                          {status(event.fromStatus)}
                          <span aria-hidden="true"> → </span>
                          <span className="visually-hidden"> {t("detail.audit.to")} </span>
                        </>
                      )}
                      {status(event.toStatus)}
                    </span>
                  ) : (
                    "—"
                  )}
                </td>
                <td>{event.reason || "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
