/** How each application status looks: a tone (colour) and an icon, always shown with its name. */
import { ApplicationStatus } from "../gen/globalcredit/intake/v1/application_pb";
import { DecisionOutcome, RiskLevel } from "../gen/globalcredit/type/v1/decision_pb";

export type Tone = "neutral" | "info" | "success" | "danger" | "warning" | "muted";

export interface StatusLook {
  key: StatusKey;
  tone: Tone;
  /** A glyph that differs per status, so colour is never the only signal. */
  icon: string;
}

export type StatusKey =
  | "PENDING"
  | "VALIDATING"
  | "APPROVED"
  | "REJECTED"
  | "UNDER_REVIEW"
  | "CANCELLED"
  | "COMPLETED"
  | "UNSPECIFIED";

const LOOKS: Record<ApplicationStatus, StatusLook> = {
  [ApplicationStatus.UNSPECIFIED]: { key: "UNSPECIFIED", tone: "muted", icon: "?" },
  [ApplicationStatus.PENDING]: { key: "PENDING", tone: "neutral", icon: "◔" },
  [ApplicationStatus.VALIDATING]: { key: "VALIDATING", tone: "info", icon: "⟳" },
  [ApplicationStatus.APPROVED]: { key: "APPROVED", tone: "success", icon: "✓" },
  [ApplicationStatus.REJECTED]: { key: "REJECTED", tone: "danger", icon: "✕" },
  [ApplicationStatus.UNDER_REVIEW]: { key: "UNDER_REVIEW", tone: "warning", icon: "⚑" },
  [ApplicationStatus.CANCELLED]: { key: "CANCELLED", tone: "muted", icon: "⊘" },
  [ApplicationStatus.COMPLETED]: { key: "COMPLETED", tone: "success", icon: "★" },
};

export function statusLook(status: ApplicationStatus): StatusLook {
  return LOOKS[status] ?? LOOKS[ApplicationStatus.UNSPECIFIED];
}

/** The statuses an analyst filters by, in workflow order. */
export const FILTERABLE_STATUSES: readonly ApplicationStatus[] = [
  ApplicationStatus.PENDING,
  ApplicationStatus.VALIDATING,
  ApplicationStatus.UNDER_REVIEW,
  ApplicationStatus.APPROVED,
  ApplicationStatus.REJECTED,
  ApplicationStatus.CANCELLED,
  ApplicationStatus.COMPLETED,
];

/** SPEC §5: the applicant's channel may cancel from these. */
export const CANCELLABLE: ReadonlySet<ApplicationStatus> = new Set([
  ApplicationStatus.PENDING,
  ApplicationStatus.UNDER_REVIEW,
  ApplicationStatus.APPROVED,
]);

export type RiskKey = "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";

export function riskKey(level: RiskLevel): RiskKey | null {
  switch (level) {
    case RiskLevel.LOW:
      return "LOW";
    case RiskLevel.MEDIUM:
      return "MEDIUM";
    case RiskLevel.HIGH:
      return "HIGH";
    case RiskLevel.CRITICAL:
      return "CRITICAL";
    default:
      return null;
  }
}

/** SPEC §6's bands, for a live event that brings a score but no level. */
export function riskLevelOfScore(score: string): RiskLevel {
  const value = Number(score);
  if (!score || Number.isNaN(value)) return RiskLevel.UNSPECIFIED;
  if (value < 30) return RiskLevel.LOW;
  if (value < 50) return RiskLevel.MEDIUM;
  if (value < 70) return RiskLevel.HIGH;
  return RiskLevel.CRITICAL;
}

export type OutcomeKey = "APPROVE" | "REJECT" | "REVIEW";

export function outcomeKey(outcome: DecisionOutcome): OutcomeKey | null {
  switch (outcome) {
    case DecisionOutcome.APPROVE:
      return "APPROVE";
    case DecisionOutcome.REJECT:
      return "REJECT";
    case DecisionOutcome.REVIEW:
      return "REVIEW";
    default:
      return null;
  }
}
