/**
 * Who is signed in, read from the bearer token's claims. The console does not verify the signature (the
 * gateway and every service do); it reads the claims only to decide what to offer.
 */
import { ApplicationStatus, type Application } from "../gen/globalcredit/intake/v1/application_pb";
import { CANCELLABLE } from "../domain/status";

export type Role = "analyst" | "senior_analyst" | "admin" | "partner" | "service";

export interface Principal {
  subject: string;
  roles: readonly string[];
  partnerId: string | null;
  /** Seconds since the epoch; null when the token does not say. */
  expiresAt: number | null;
}

export class MalformedToken extends Error {}

function decodeBase64Url(part: string): string {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const binary = atob(base64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The claims of a compact JWS; throws MalformedToken for anything else. */
export function readPrincipal(token: string): Principal {
  const parts = token.trim().split(".");
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
    throw new MalformedToken("not a JWT");
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(decodeBase64Url(parts[1])) as Record<string, unknown>;
  } catch {
    throw new MalformedToken("unreadable claims");
  }
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === "string") : [];
  return {
    subject: typeof claims.sub === "string" ? claims.sub : "",
    roles,
    partnerId: typeof claims.partner_id === "string" ? claims.partner_id : null,
    expiresAt: typeof claims.exp === "number" ? claims.exp : null,
  };
}

export function isExpired(principal: Principal, nowSeconds = Date.now() / 1000): boolean {
  return principal.expiresAt !== null && principal.expiresAt <= nowSeconds;
}

const DECIDERS: readonly Role[] = ["analyst", "senior_analyst", "admin"];
const SUBMITTERS: readonly Role[] = ["partner", "analyst", "senior_analyst", "admin"];

function hasAny(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((role) => (roles as readonly string[]).includes(role));
}

/** The role shown in the header: the most capable one the token carries. */
export function displayRole(principal: Principal): string {
  const order: Role[] = ["admin", "senior_analyst", "analyst", "partner", "service"];
  return order.find((role) => principal.roles.includes(role)) ?? principal.roles[0] ?? "";
}

export function canSubmit(principal: Principal): boolean {
  return hasAny(principal, SUBMITTERS);
}

/** Approve or reject a review (SPEC §5: analysts). */
export function canDecide(principal: Principal, application: Application): boolean {
  return application.status === ApplicationStatus.UNDER_REVIEW && hasAny(principal, DECIDERS);
}

/** Approve: a decider, but not the one who gave the first of two approvals (four eyes, SPEC §5). */
export function canApprove(principal: Principal, application: Application): boolean {
  return canDecide(principal, application) && application.pendingApproval?.requestedBy !== principal.subject;
}

/** Cancel: analysts any application, a partner only its own, from PENDING, UNDER_REVIEW or APPROVED. */
export function canCancel(principal: Principal, application: Application): boolean {
  if (!CANCELLABLE.has(application.status)) return false;
  if (hasAny(principal, DECIDERS)) return true;
  return (
    principal.roles.includes("partner") &&
    principal.partnerId !== null &&
    principal.partnerId === application.partnerId
  );
}
