/** The UI language (remembered in localStorage), translation and date formatting. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { LANGUAGES, MESSAGES, type Language, type MessageKey } from "./messages";

const STORAGE_KEY = "gcc.console.language";

export type Params = Record<string, string | number>;

export interface I18n {
  lang: Language;
  setLang(lang: Language): void;
  t(key: MessageKey, params?: Params): string;
  /** A date and time in the UI language. */
  formatDateTime(date: Date | undefined): string;
}

const I18nContext = createContext<I18n | null>(null);

function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

function initialLanguage(): Language {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (isLanguage(stored)) return stored;
  } catch {
    // storage disabled: fall through to the browser's language
  }
  const preferred = (typeof navigator !== "undefined" ? navigator.language : "en").slice(0, 2);
  return isLanguage(preferred) ? preferred : "en";
}

export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (match, name: string) =>
    name in params ? String(params[name]) : match,
  );
}

export function I18nProvider({ children, language }: { children: ReactNode; language?: Language }) {
  const [lang, setLangState] = useState<Language>(() => language ?? initialLanguage());

  const setLang = useCallback((next: Language) => {
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // not remembered, still switched
    }
    setLangState(next);
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const value = useMemo<I18n>(() => {
    const messages = MESSAGES[lang];
    const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "medium" });
    return {
      lang,
      setLang,
      t: (key, params) => interpolate(messages[key] ?? MESSAGES.en[key] ?? key, params),
      formatDateTime: (date) => (date ? dateTime.format(date) : "—"),
    };
  }, [lang, setLang]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error("useI18n outside I18nProvider");
  return i18n;
}
