/** One application: who, how much, where it stands, why, what the bureau said, and every step so far. */
import { useState } from "react";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { canApprove, canCancel, canDecide } from "../../auth/principal";
import { usePrincipal } from "../../auth/session";
import { countryInfo } from "../../domain/countries";
import { formatMoney } from "../../domain/money";
import { ConsentChannel, IdentityDocumentType, type Application } from "../../gen/globalcredit/intake/v1/application_pb";
import { useApplication } from "../../hooks/useApplication";
import { useFocusOnMount } from "../../hooks/useFocusOnMount";
import { errorMessage } from "../../i18n/errors";
import { useI18n } from "../../i18n/I18nProvider";
import { hrefOf } from "../../router";
import { StatusBadge } from "../StatusBadge";
import { ActionDialog, type ActionKind } from "./ActionDialog";
import { AuditTrail } from "./AuditTrail";
import { BankConfirmations } from "./BankConfirmations";
import { CreditReportPanel } from "./CreditReportPanel";
import { DecisionPanel } from "./DecisionPanel";

const DOCUMENT_TYPES: Partial<Record<IdentityDocumentType, string>> = {
  [IdentityDocumentType.ES_DNI]: "DNI",
  [IdentityDocumentType.ES_NIE]: "NIE",
  [IdentityDocumentType.PT_NIF]: "NIF",
  [IdentityDocumentType.IT_CODICE_FISCALE]: "Codice Fiscale",
  [IdentityDocumentType.MX_CURP]: "CURP",
  [IdentityDocumentType.CO_CEDULA]: "Cédula de ciudadanía",
  [IdentityDocumentType.BR_CPF]: "CPF",
};

const CHANNELS: Partial<Record<ConsentChannel, "WEB" | "MOBILE_APP" | "BRANCH" | "PHONE" | "PARTNER">> = {
  [ConsentChannel.WEB]: "WEB",
  [ConsentChannel.MOBILE_APP]: "MOBILE_APP",
  [ConsentChannel.BRANCH]: "BRANCH",
  [ConsentChannel.PHONE]: "PHONE",
  [ConsentChannel.PARTNER]: "PARTNER",
};

export function ApplicationDetail({ name }: { name: string }) {
  const { t } = useI18n();
  const view = useApplication(name);
  const [action, setAction] = useState<ActionKind | null>(null);
  const [done, setDone] = useState<"approve" | "reject" | "cancel" | "approvePending" | null>(null);
  const application = view.application;

  return (
    <div className="detail">
      <a className="back" href={hrefOf({ page: "queue" })}>
        <span aria-hidden="true">← </span>
        {t("detail.back")}
      </a>
      {view.error && (
        <div className="notice notice-danger" role="alert">
          <p>{errorMessage(t, view.error)}</p>
          <button type="button" className="button" onClick={view.reload}>
            {t("action.retry")}
          </button>
        </div>
      )}
      {!application && view.loading && <p className="muted">{t("detail.loading")}</p>}
      {application && (
        <>
          <DetailHeader application={application} onAction={setAction} />
          <PendingApprovalNotice application={application} />
          {done && (
            // The button that opened the dialog is gone with the old status: the focus comes here.
            <DoneNotice key={done}>{t(done === "approvePending" ? "action.approve.pending" : `action.${done}.done`)}</DoneNotice>
          )}
          <div className="cards">
            <ApplicantCard application={application} />
            <LoanCard application={application} />
            <DecisionPanel decision={application.decision} />
            <CreditReportPanel report={application.creditReport} country={countryInfo(application.country)} />
            <BankConfirmations confirmations={application.bankConfirmations} country={countryInfo(application.country)} />
            <AuditTrail events={view.events} error={view.eventsError} />
          </div>
          {action && (
            <ActionDialog
              kind={action}
              application={application}
              onClose={() => setAction(null)}
              onDone={(updated) => {
                view.replace(updated);
                // Above the four-eyes threshold an approval waits for a second analyst.
                setDone(action === "approve" && updated.pendingApproval ? "approvePending" : action);
                setAction(null);
              }}
              onRefresh={() => {
                view.reload();
                setAction(null);
              }}
            />
          )}
        </>
      )}
    </div>
  );
}

function DetailHeader({ application, onAction }: { application: Application; onAction(kind: ActionKind): void }) {
  const { t, formatDateTime } = useI18n();
  const principal = usePrincipal();
  const decide = canDecide(principal, application);
  const approve = canApprove(principal, application);
  const cancel = canCancel(principal, application);
  const info = countryInfo(application.country);
  return (
    <div className="detail-head panel">
      <div>
        <h1>
          {t("detail.title")} <span className="mono">{application.name.replace(/^applications\//, "")}</span>
        </h1>
        <p className="muted small">
          {info ? t(`country.${info.code}`) : "—"} · {t("detail.created", { time: application.createTime ? formatDateTime(timestampDate(application.createTime)) : "—" })}
          {" · "}
          {t("detail.updated", { time: application.updateTime ? formatDateTime(timestampDate(application.updateTime)) : "—" })}
          {application.partnerId && ` · ${t("detail.partner", { partner: application.partnerId })}`}
        </p>
        {application.statusReason && (
          <p className="small">
            {t("detail.statusReason")}: <span className="mono">{application.statusReason}</span>
          </p>
        )}
      </div>
      <div className="detail-status">
        <StatusBadge status={application.status} />
        {(decide || cancel) && (
          <div className="actions" role="group" aria-label={t("detail.actions")}>
            {approve && (
              <button type="button" className="button primary" onClick={() => onAction("approve")}>
                {t("action.approve")}
              </button>
            )}
            {decide && (
              <button type="button" className="button danger" onClick={() => onAction("reject")}>
                {t("action.reject")}
              </button>
            )}
            {cancel && (
              <button type="button" className="button ghost" onClick={() => onAction("cancel")}>
                {t("action.cancel")}
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

function DoneNotice({ children }: { children: string }) {
  const ref = useFocusOnMount<HTMLParagraphElement>();
  return (
    <p className="notice notice-success" role="status" tabIndex={-1} ref={ref}>
      {children}
    </p>
  );
}

function PendingApprovalNotice({ application }: { application: Application }) {
  const { t, formatDateTime } = useI18n();
  const principal = usePrincipal();
  const pending = application.pendingApproval;
  if (!pending) return null;
  return (
    <div className="notice notice-info" data-pending-approval="true">
      <p>
        <strong>
          <span aria-hidden="true">⧗ </span>
          {t("detail.pending.title")}
        </strong>{" "}
        {t("detail.pending.body", {
          by: pending.requestedBy,
          time: pending.requestTime ? formatDateTime(timestampDate(pending.requestTime)) : "—",
          reason: pending.reason,
        })}
      </p>
      {pending.requestedBy === principal.subject && <p>{t("detail.pending.self")}</p>}
    </div>
  );
}

function ApplicantCard({ application }: { application: Application }) {
  const { t, formatDateTime } = useI18n();
  const applicant = application.applicant;
  const consent = application.consent;
  const channel = consent ? CHANNELS[consent.channel] : undefined;
  return (
    <section className="card" aria-labelledby="applicant-title">
      <h2 id="applicant-title">{t("detail.applicant.title")}</h2>
      <dl className="facts">
        <div>
          <dt>{t("detail.applicant.name")}</dt>
          <dd>{applicant?.erased ? <em>{t("detail.applicant.erased")}</em> : applicant?.fullName || "—"}</dd>
        </div>
        <div>
          <dt>{DOCUMENT_TYPES[applicant?.identityDocumentType ?? IdentityDocumentType.UNSPECIFIED] ?? t("detail.applicant.document")}</dt>
          <dd className="mono" data-masked="true">
            {applicant?.identityDocument || "—"}
            <span className="visually-hidden"> {t("detail.applicant.masked")}</span>
          </dd>
        </div>
        <div>
          <dt>{t("detail.consent.channel")}</dt>
          <dd>{channel ? t(`channel.${channel}`) : "—"}</dd>
        </div>
        <div>
          <dt>{t("detail.consent.reference")}</dt>
          <dd className="mono">{consent?.reference || "—"}</dd>
        </div>
        <div>
          <dt>{t("detail.consent.time")}</dt>
          <dd>{consent?.grantedAt ? formatDateTime(timestampDate(consent.grantedAt)) : "—"}</dd>
        </div>
      </dl>
    </section>
  );
}

function LoanCard({ application }: { application: Application }) {
  const { t } = useI18n();
  const info = countryInfo(application.country);
  const money = (value: { amount: string; currencyCode: string } | undefined) =>
    value ? formatMoney(value.amount, value.currencyCode, info?.locale ?? "en") : "—";
  return (
    <section className="card" aria-labelledby="loan-title">
      <h2 id="loan-title">{t("detail.loan.title")}</h2>
      <dl className="facts">
        <div>
          <dt>{t("detail.loan.amount")}</dt>
          <dd className="amount" data-amount>
            {money(application.requestedAmount)}
          </dd>
        </div>
        <div>
          <dt>{t("detail.loan.income")}</dt>
          <dd>{money(application.monthlyIncome)}</dd>
        </div>
        <div>
          <dt>{t("detail.loan.term")}</dt>
          <dd>{t("detail.report.months", { months: application.termMonths || 36 })}</dd>
        </div>
        <div>
          <dt>{t("detail.loan.currency")}</dt>
          <dd>{application.requestedAmount?.currencyCode ?? info?.currency ?? "—"}</dd>
        </div>
      </dl>
    </section>
  );
}
