import { useId } from "react";
import { COUNTRIES } from "../../domain/countries";
import { FILTERABLE_STATUSES, statusLook } from "../../domain/status";
import { ApplicationStatus } from "../../gen/globalcredit/intake/v1/application_pb";
import { Country } from "../../gen/globalcredit/type/v1/country_pb";
import type { QueueFilters as Filters } from "../../hooks/useApplications";
import { useI18n } from "../../i18n/I18nProvider";

export function QueueFilters({ value, onChange }: { value: Filters; onChange(next: Filters): void }) {
  const { t } = useI18n();
  const id = useId();
  return (
    <div className="filters" role="search" aria-label={t("queue.filters")}>
      <div className="field inline">
        <label htmlFor={`${id}-country`}>{t("queue.filter.country")}</label>
        <select
          id={`${id}-country`}
          value={value.country}
          onChange={(event) => onChange({ ...value, country: Number(event.target.value) as Country })}
        >
          <option value={Country.UNSPECIFIED}>{t("queue.filter.allCountries")}</option>
          {COUNTRIES.map((info) => (
            <option key={info.code} value={info.proto}>
              {t(`country.${info.code}`)}
            </option>
          ))}
        </select>
      </div>
      <div className="field inline">
        <label htmlFor={`${id}-status`}>{t("queue.filter.status")}</label>
        <select
          id={`${id}-status`}
          value={value.status}
          onChange={(event) => onChange({ ...value, status: Number(event.target.value) as ApplicationStatus })}
        >
          <option value={ApplicationStatus.UNSPECIFIED}>{t("queue.filter.allStatuses")}</option>
          {FILTERABLE_STATUSES.map((status) => (
            <option key={status} value={status}>
              {t(`status.${statusLook(status).key}`)}
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}
