import type { WatchState } from "../hooks/useWatch";
import { useI18n } from "../i18n/I18nProvider";

const ICONS: Record<WatchState, string> = { connecting: "◌", live: "●", reconnecting: "◍", off: "○" };

/** Says, in words and not only by colour, whether changes arrive live. */
export function LiveIndicator({ state }: { state: WatchState }) {
  const { t } = useI18n();
  return (
    <span className={`live live-${state}`} role="status" data-watch-state={state} title={t(`live.${state}.help`)}>
      <span aria-hidden="true" className="live-dot">
        {ICONS[state]}
      </span>
      {t(`live.${state}`)}
    </span>
  );
}
