import type { ApplicationStatus } from "../gen/globalcredit/intake/v1/application_pb";
import { statusLook } from "../domain/status";
import { useI18n } from "../i18n/I18nProvider";

/** A status as colour, icon and words: never colour alone. */
export function StatusBadge({ status }: { status: ApplicationStatus }) {
  const { t } = useI18n();
  const look = statusLook(status);
  return (
    <span className={`badge tone-${look.tone}`} data-status={look.key}>
      <span className="badge-icon" aria-hidden="true">
        {look.icon}
      </span>
      {t(`status.${look.key}`)}
    </span>
  );
}
