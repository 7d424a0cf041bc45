import { canSubmit, displayRole } from "../auth/principal";
import { useSession } from "../auth/session";
import { useWatch } from "../hooks/useWatch";
import { useI18n } from "../i18n/I18nProvider";
import type { Route } from "../router";
import { LiveIndicator } from "./LiveIndicator";
import { LanguageSelect } from "./LanguageSelect";

export function Header({ route, onNewForm }: { route: Route; onNewForm?: () => void }) {
  const { t } = useI18n();
  const { principal, signOut } = useSession();
  const watchState = useWatch();
  if (!principal) return null;
  const role = displayRole(principal);
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          GC
        </span>
        <span className="brand-name">{t("app.title")}</span>
      </div>
      <nav aria-label={t("nav.label")} className="nav">
        <a href="#/" aria-current={route.page === "queue" ? "page" : undefined}>
          {t("nav.queue")}
        </a>
        {canSubmit(principal) && (
          <a href="#/new" aria-current={route.page === "new" ? "page" : undefined} onClick={onNewForm}>
            {t("nav.new")}
          </a>
        )}
      </nav>
      <div className="topbar-end">
        <LiveIndicator state={watchState} />
        <LanguageSelect />
        <span className="identity" data-role={role}>
          <span className="identity-role">{t(roleKey(role))}</span>
          <span className="identity-subject">{principal.subject}</span>
        </span>
        <button type="button" className="button ghost" onClick={() => signOut()}>
          {t("session.signOut")}
        </button>
      </div>
    </header>
  );
}

export function roleKey(role: string) {
  switch (role) {
    case "analyst":
    case "senior_analyst":
    case "admin":
    case "partner":
    case "service":
      return `role.${role}` as const;
    default:
      return "role.unknown" as const;
  }
}
