import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { CountryInfo } from "../../domain/countries";
import { formatMoney } from "../../domain/money";
import type { BankConfirmation } from "../../gen/globalcredit/intake/v1/application_pb";
import { useI18n } from "../../i18n/I18nProvider";

export function BankConfirmations({ confirmations, country }: { confirmations: BankConfirmation[]; country: CountryInfo | undefined }) {
  const { t, formatDateTime } = useI18n();
  const yesNo = (value: boolean) => (
    <span className={`badge tone-${value ? "success" : "danger"}`}>
      <span aria-hidden="true">{value ? "✓ " : "✕ "}</span>
      {t(value ? "common.yes" : "common.no")}
    </span>
  );
  return (
    <section className="card" aria-labelledby="bank-title">
      <h2 id="bank-title">{t("detail.bank.title")}</h2>
      {confirmations.length === 0 ? (
        <p className="muted">{t("detail.bank.none")}</p>
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">{t("detail.bank.time")}</th>
              <th scope="col">{t("detail.bank.reference")}</th>
              <th scope="col">{t("detail.bank.identity")}</th>
              <th scope="col">{t("detail.bank.disbursed")}</th>
              <th scope="col" className="num">
                {t("detail.bank.amount")}
              </th>
            </tr>
          </thead>
          <tbody>
            {confirmations.map((confirmation) => (
              <tr key={confirmation.webhookId}>
                <td>{confirmation.occurTime ? formatDateTime(timestampDate(confirmation.occurTime)) : "—"}</td>
                <td className="mono">{confirmation.bankReference}</td>
                <td>{yesNo(confirmation.identityVerified)}</td>
                <td>{yesNo(confirmation.disbursed)}</td>
                <td className="num">
                  {confirmation.amountDisbursed
                    ? formatMoney(confirmation.amountDisbursed.amount, confirmation.amountDisbursed.currencyCode, country?.locale ?? "en")
                    : "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
