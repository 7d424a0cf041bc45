import { timestampDate } from "@bufbuild/protobuf/wkt";
import { outcomeKey } from "../../domain/status";
import type { Decision, DecisionReason } from "../../gen/globalcredit/type/v1/decision_pb";
import { RuleEffect } from "../../gen/globalcredit/type/v1/decision_pb";
import { useI18n } from "../../i18n/I18nProvider";
import { RiskBadge } from "../RiskBadge";

const OUTCOME_TONE = { APPROVE: "success", REJECT: "danger", REVIEW: "warning" } as const;
const OUTCOME_ICON = { APPROVE: "✓", REJECT: "✕", REVIEW: "⚑" } as const;

/** Scoring's decision with every reason in the UI language, observed value against threshold. */
export function DecisionPanel({ decision }: { decision: Decision | undefined }) {
  const { t, formatDateTime } = useI18n();
  const outcome = decision ? outcomeKey(decision.outcome) : null;
  return (
    <section className="card" aria-labelledby="decision-title">
      <h2 id="decision-title">{t("detail.decision.title")}</h2>
      {!decision || !outcome ? (
        <p className="muted">{t("detail.decision.none")}</p>
      ) : (
        <>
          <dl className="facts">
            <div>
              <dt>{t("detail.decision.outcome")}</dt>
              <dd>
                <span className={`badge tone-${OUTCOME_TONE[outcome]}`} data-outcome={outcome}>
                  <span aria-hidden="true">{OUTCOME_ICON[outcome]} </span>
                  {t(`outcome.${outcome}`)}
                </span>
              </dd>
            </div>
            <div>
              <dt>{t("detail.decision.risk")}</dt>
              <dd>
                <RiskBadge score={decision.riskScore} level={decision.riskLevel} />
              </dd>
            </div>
            <div>
              <dt>{t("detail.decision.ruleSet")}</dt>
              <dd className="mono">{decision.ruleSetVersion || "—"}</dd>
            </div>
            <div>
              <dt>{t("detail.decision.time")}</dt>
              <dd>{decision.decideTime ? formatDateTime(timestampDate(decision.decideTime)) : "—"}</dd>
            </div>
          </dl>
          <h3>{t("detail.reasons.title", { count: decision.reasons.length })}</h3>
          {decision.reasons.length === 0 ? (
            <p className="muted">{t("detail.reasons.none")}</p>
          ) : (
            <ol className="reasons">
              {decision.reasons.map((reason, index) => (
                <ReasonItem key={`${reason.code}-${index}`} reason={reason} principal={index < 4} />
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

function effectKey(effect: RuleEffect) {
  switch (effect) {
    case RuleEffect.HARD:
      return "HARD" as const;
    case RuleEffect.SOFT:
      return "SOFT" as const;
    case RuleEffect.BONUS:
      return "BONUS" as const;
    default:
      return null;
  }
}

function isFlag(value: string): boolean {
  return value === "true" || value === "false";
}

const EFFECT_TONE = { HARD: "danger", SOFT: "warning", BONUS: "success" } as const;

function ReasonItem({ reason, principal }: { reason: DecisionReason; principal: boolean }) {
  const { t, lang } = useI18n();
  const effect = effectKey(reason.effect);
  const message = reason.localizedMessages[lang] || reason.message || reason.code;
  const value = (text: string) => (text === "true" ? t("common.yes") : text === "false" ? t("common.no") : text);
  return (
    <li className="reason" data-code={reason.code}>
      <div className="reason-head">
        <span className="reason-message">{message}</span>
        {effect && (
          <span className={`badge tone-${EFFECT_TONE[effect]}`}>{t(`effect.${effect}`)}</span>
        )}
        <span className="reason-points">{t("detail.reasons.points", { points: reason.points > 0 ? `+${reason.points}` : reason.points })}</span>
      </div>
      <div className="reason-meta">
        <span className="mono">{reason.code}</span>
        {/* A flag rule (`true` against `true`) has nothing to compare: its sentence says it all. */}
        {(reason.observed || reason.threshold) && !(isFlag(reason.observed) && isFlag(reason.threshold)) && (
          <span>
            {t("detail.reasons.observed", { observed: value(reason.observed) || "—", threshold: value(reason.threshold) || "—" })}
          </span>
        )}
        {principal && <span className="tag">{t("detail.reasons.principal")}</span>}
      </div>
    </li>
  );
}
