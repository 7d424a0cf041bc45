import { useId } from "react";
import { useI18n } from "../i18n/I18nProvider";
import { LANGUAGES, LANGUAGE_NAMES, type Language } from "../i18n/messages";

export function LanguageSelect() {
  const { t, lang, setLang } = useI18n();
  const id = useId();
  return (
    <span className="language">
      <label htmlFor={id} className="visually-hidden">
        {t("language.label")}
      </label>
      <select id={id} value={lang} onChange={(event) => setLang(event.target.value as Language)}>
        {LANGUAGES.map((code) => (
          <option key={code} value={code} lang={code}>
            {LANGUAGE_NAMES[code]}
          </option>
        ))}
      </select>
    </span>
  );
}
