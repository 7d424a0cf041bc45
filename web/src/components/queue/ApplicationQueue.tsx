/** The analysts' queue: filters, one page of applications, paging, and rows that change live. */
import { useState } from "react";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { countryInfo } from "../../domain/countries";
import { formatMoney } from "../../domain/money";
import { statusLook } from "../../domain/status";
import type { Application } from "../../gen/globalcredit/intake/v1/application_pb";
import { NO_FILTERS, useApplications, type QueueFilters as Filters } from "../../hooks/useApplications";
import { errorMessage } from "../../i18n/errors";
import { useI18n } from "../../i18n/I18nProvider";
import { hrefOf } from "../../router";
import { RiskBadge } from "../RiskBadge";
import { StatusBadge } from "../StatusBadge";
import { QueueFilters } from "./QueueFilters";

export const PAGE_SIZE = 20;

export function shortId(name: string): string {
  const id = name.replace(/^applications\//, "");
  return id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

export function ApplicationQueue({ pageSize = PAGE_SIZE }: { pageSize?: number }) {
  const { t } = useI18n();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const page = useApplications(filters, pageSize);

  return (
    <section className="panel queue" aria-labelledby="queue-title">
      <div className="panel-head">
        <h1 id="queue-title">{t("queue.title")}</h1>
        <QueueFilters value={filters} onChange={setFilters} />
      </div>
      {page.error && (
        <div className="notice notice-danger" role="alert">
          <p>{errorMessage(t, page.error)}</p>
          <button type="button" className="button" onClick={page.reload}>
            {t("action.retry")}
          </button>
        </div>
      )}
      <div className="table-wrap">
        <table className="table" aria-busy={page.loading} aria-describedby="queue-caption">
          <caption id="queue-caption" className="visually-hidden">
            {t("queue.caption", { page: page.page })}
          </caption>
          <thead>
            <tr>
              <th scope="col">{t("queue.col.application")}</th>
              <th scope="col">{t("queue.col.country")}</th>
              <th scope="col">{t("queue.col.applicant")}</th>
              <th scope="col" className="num">
                {t("queue.col.amount")}
              </th>
              <th scope="col">{t("queue.col.status")}</th>
              <th scope="col">{t("queue.col.risk")}</th>
              <th scope="col">{t("queue.col.updated")}</th>
            </tr>
          </thead>
          <tbody>
            {page.rows.map((application) => (
              <QueueRow key={application.name} application={application} highlighted={page.highlighted.has(application.name)} />
            ))}
            {!page.loading && page.rows.length === 0 && !page.error && (
              <tr>
                <td colSpan={7} className="empty">
                  {t("queue.empty")}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <p className="visually-hidden" aria-live="polite" data-testid="queue-announcement">
        {page.lastChange &&
          t("queue.announce", {
            application: shortId(page.lastChange.name),
            status: t(`status.${statusLook(page.lastChange.status).key}`),
          })}
      </p>
      <nav className="pager" aria-label={t("queue.paging")}>
        <button type="button" className="button" onClick={page.previous} disabled={!page.hasPrevious || page.loading}>
          <span aria-hidden="true">← </span>
          {t("queue.previous")}
        </button>
        <span className="pager-page" aria-live="polite">
          {page.loading ? t("queue.loading") : t("queue.page", { page: page.page })}
        </span>
        <button type="button" className="button" onClick={page.next} disabled={!page.hasNext || page.loading}>
          {t("queue.next")}
          <span aria-hidden="true"> →</span>
        </button>
      </nav>
    </section>
  );
}

function QueueRow({ application, highlighted }: { application: Application; highlighted: boolean }) {
  const { t, formatDateTime } = useI18n();
  const info = countryInfo(application.country);
  const amount = application.requestedAmount;
  const updated = application.updateTime ?? application.createTime;
  return (
    <tr className={highlighted ? "row-changed" : undefined} data-name={application.name} data-status={application.status}>
      <td>
        <a href={hrefOf({ page: "detail", name: application.name })} className="mono" title={application.name}>
          {shortId(application.name)}
        </a>
        {highlighted && <span className="visually-hidden"> {t("queue.changed")}</span>}
      </td>
      <td>
        <span className="country-tag" title={info ? t(`country.${info.code}`) : undefined}>
          {info?.code ?? "—"}
        </span>
      </td>
      <td>
        <span className="applicant-name">{application.applicant?.fullName || "—"}</span>
        <span className="mono muted small">{application.applicant?.identityDocument}</span>
      </td>
      <td className="num">
        {amount ? formatMoney(amount.amount, amount.currencyCode, info?.locale ?? "en") : "—"}
      </td>
      <td>
        <StatusBadge status={application.status} />
        {application.pendingApproval && (
          <span className="tag pending-tag" data-pending-approval="true">
            <span aria-hidden="true">⧗ </span>
            {t("queue.pending")}
          </span>
        )}
      </td>
      <td>
        <RiskBadge score={application.decision?.riskScore ?? ""} level={application.decision?.riskLevel ?? 0} />
      </td>
      <td className="small">{updated ? formatDateTime(timestampDate(updated)) : "—"}</td>
    </tr>
  );
}
