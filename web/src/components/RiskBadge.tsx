import type { RiskLevel } from "../gen/globalcredit/type/v1/decision_pb";
import { riskKey } from "../domain/status";
import { useI18n } from "../i18n/I18nProvider";

const TONES = { LOW: "success", MEDIUM: "info", HIGH: "warning", CRITICAL: "danger" } as const;
// Bars fill with the level, so the level reads without colour too.
const FILLED = { LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 } as const;

/** Risk score and level: `42.50 · Medium`. */
export function RiskBadge({ score, level }: { score: string; level: RiskLevel }) {
  const { t } = useI18n();
  const key = riskKey(level);
  if (!score && !key) return <span className="muted">—</span>;
  return (
    <span className="risk">
      {score && <span className="risk-score">{score}</span>}
      {key && (
        <span className={`badge tone-${TONES[key]}`} data-risk={key}>
          <span className="risk-bars" aria-hidden="true">
            {[1, 2, 3, 4].map((bar) => (
              <span key={bar} className={bar <= FILLED[key] ? "bar filled" : "bar"} />
            ))}
          </span>
          {t(`risk.${key}`)}
        </span>
      )}
    </span>
  );
}
