/** The catalogues: English is the reference; Spanish, Portuguese and Italian must have every key. */
import { en } from "./locales/en";
import { es } from "./locales/es";
import { it } from "./locales/it";
import { pt } from "./locales/pt";

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;

export const LANGUAGES = ["en", "es", "pt", "it"] as const;
export type Language = (typeof LANGUAGES)[number];

/** Each language in its own words, for the language menu. */
export const LANGUAGE_NAMES: Record<Language, string> = {
  en: "English",
  es: "Español",
  pt: "Português",
  it: "Italiano",
};

export const MESSAGES: Record<Language, Catalogue> = { en, es, pt, it };

export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}
