import { timestampDate } from "@bufbuild/protobuf/wkt";
import { formatMoney } from "../../domain/money";
import type { CountryInfo } from "../../domain/countries";
import type { CreditReport } from "../../gen/globalcredit/type/v1/credit_report_pb";
import { useI18n } from "../../i18n/I18nProvider";

/** The bureau's report; a fallback (made up because the bureau could not be asked) is marked plainly. */
export function CreditReportPanel({ report, country }: { report: CreditReport | undefined; country: CountryInfo | undefined }) {
  const { t, formatDateTime } = useI18n();
  const money = (amount: string | undefined, currency: string | undefined) =>
    amount ? formatMoney(amount, currency || country?.currency || "EUR", country?.locale ?? "en") : "—";
  return (
    <section className="card" aria-labelledby="report-title">
      <h2 id="report-title">{t("detail.report.title")}</h2>
      {!report ? (
        <p className="muted">{t("detail.report.none")}</p>
      ) : (
        <>
          {report.fallback && (
            <p className="notice notice-warning fallback-mark" data-fallback="true">
              <strong>
                <span aria-hidden="true">⚠ </span>
                {t("detail.report.fallback")}
              </strong>{" "}
              {t("detail.report.fallback.help")}
            </p>
          )}
          <dl className="facts">
            <div>
              <dt>{t("detail.report.provider")}</dt>
              <dd>{report.provider || "—"}</dd>
            </div>
            <div>
              <dt>{t("detail.report.score")}</dt>
              <dd>{report.creditScore ?? t("detail.report.noScore")}</dd>
            </div>
            <div>
              <dt>{t("detail.report.debt")}</dt>
              <dd>{money(report.totalDebt?.amount, report.totalDebt?.currencyCode)}</dd>
            </div>
            <div>
              <dt>{t("detail.report.obligations")}</dt>
              <dd>{money(report.monthlyObligations?.amount, report.monthlyObligations?.currencyCode)}</dd>
            </div>
            <div>
              <dt>{t("detail.report.defaults")}</dt>
              <dd>
                {report.hasDefaults ? (
                  <span className="badge tone-danger">
                    <span aria-hidden="true">✕ </span>
                    {t("common.yes")}
                  </span>
                ) : (
                  t("common.no")
                )}
              </dd>
            </div>
            <div>
              <dt>{t("detail.report.accountAge")}</dt>
              <dd>{t("detail.report.months", { months: report.accountAgeMonths })}</dd>
            </div>
            <div>
              <dt>{t("detail.report.id")}</dt>
              <dd className="mono">{report.reportId || "—"}</dd>
            </div>
            <div>
              <dt>{t("detail.report.time")}</dt>
              <dd>{report.reportTime ? formatDateTime(timestampDate(report.reportTime)) : "—"}</dd>
            </div>
          </dl>
        </>
      )}
    </section>
  );
}
