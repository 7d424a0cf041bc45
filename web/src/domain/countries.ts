/** What the console knows of each country (SPEC §3): currency, locale, document, limits, examples. */
import { Country } from "../gen/globalcredit/type/v1/country_pb";

export type CountryCode = "ES" | "PT" | "IT" | "MX" | "CO" | "BR";

/** The optional country-specific field (the `CountryDetails` oneof case and its one field). */
export type DetailsField =
  | { case: "spain"; field: "provinceCode"; path: "country_details.spain.province_code"; pattern: RegExp }
  | { case: "portugal"; field: "districtCode"; path: "country_details.portugal.district_code"; pattern: RegExp }
  | { case: "italy"; field: "provinceCode"; path: "country_details.italy.province_code"; pattern: RegExp }
  | { case: "mexico"; field: "stateCode"; path: "country_details.mexico.state_code"; pattern: RegExp }
  | { case: "colombia"; field: "socioeconomicStratum"; path: "country_details.colombia.socioeconomic_stratum"; pattern: RegExp }
  | { case: "brazil"; field: "stateCode"; path: "country_details.brazil.state_code"; pattern: RegExp };

export interface CountryInfo {
  code: CountryCode;
  proto: Country;
  currency: "EUR" | "MXN" | "COP" | "BRL";
  /** Locale amounts of this country are written in. */
  locale: string;
  /** The document's name, as people there call it. */
  documentLabel: string;
  documentExample: string;
  /** Shape of the normalised document: what the console checks before sending (checksums are the
   * server's). */
  documentPattern: RegExp;
  maxAmount: string;
  minMonthlyIncome: string;
  /** Approvals above this need a second analyst (SPEC §5). */
  fourEyesThreshold: string;
  /** A typical application, shown as the inputs' examples. */
  typicalAmount: string;
  typicalIncome: string;
  details: DetailsField;
}

// Omocodia letters stand in for digits in a Codice Fiscale.
const CF_DIGIT = "[0-9LMNPQRSTUV]";

export const COUNTRIES: readonly CountryInfo[] = [
  {
    code: "ES",
    proto: Country.ES,
    currency: "EUR",
    locale: "es-ES",
    documentLabel: "DNI / NIE",
    documentExample: "12345678Z",
    documentPattern: /^(\d{8}|[XYZ]\d{7})[A-Z]$/,
    maxAmount: "50000.00",
    minMonthlyIncome: "1500.00",
    fourEyesThreshold: "30000.00",
    typicalAmount: "12000",
    typicalIncome: "3200",
    details: { case: "spain", field: "provinceCode", path: "country_details.spain.province_code", pattern: /^(0[1-9]|[1-4]\d|5[0-2])$/ },
  },
  {
    code: "PT",
    proto: Country.PT,
    currency: "EUR",
    locale: "pt-PT",
    documentLabel: "NIF",
    documentExample: "123456789",
    documentPattern: /^([123]\d{8}|45\d{7})$/,
    maxAmount: "30000.00",
    minMonthlyIncome: "800.00",
    fourEyesThreshold: "30000.00",
    typicalAmount: "8000",
    typicalIncome: "1800",
    details: { case: "portugal", field: "districtCode", path: "country_details.portugal.district_code", pattern: /^(0[1-9]|1[0-8]|20|30)$/ },
  },
  {
    code: "IT",
    proto: Country.IT,
    currency: "EUR",
    locale: "it-IT",
    documentLabel: "Codice Fiscale",
    documentExample: "RSSMRA80A01H501U",
    documentPattern: new RegExp(
      `^[A-Z]{6}${CF_DIGIT}{2}[ABCDEHLMPRST]${CF_DIGIT}{2}[A-Z]${CF_DIGIT}{3}[A-Z]$`,
    ),
    maxAmount: "50000.00",
    minMonthlyIncome: "1200.00",
    fourEyesThreshold: "30000.00",
    typicalAmount: "15000",
    typicalIncome: "2600",
    details: { case: "italy", field: "provinceCode", path: "country_details.italy.province_code", pattern: /^[A-Z]{2}$/ },
  },
  {
    code: "MX",
    proto: Country.MX,
    currency: "MXN",
    locale: "es-MX",
    documentLabel: "CURP",
    documentExample: "HERM850101MDFRRR08",
    documentPattern: /^[A-Z]{4}\d{6}[HMX][A-Z]{5}[0-9A-Z]\d$/,
    maxAmount: "200000.00",
    minMonthlyIncome: "5000.00",
    fourEyesThreshold: "150000.00",
    typicalAmount: "90000",
    typicalIncome: "25000",
    details: { case: "mexico", field: "stateCode", path: "country_details.mexico.state_code", pattern: /^[A-Z]{2}$/ },
  },
  {
    code: "CO",
    proto: Country.CO,
    currency: "COP",
    locale: "es-CO",
    documentLabel: "Cédula de ciudadanía",
    documentExample: "1234567890",
    documentPattern: /^\d{6,10}$/,
    maxAmount: "50000000.00",
    minMonthlyIncome: "1500000.00",
    fourEyesThreshold: "30000000.00",
    typicalAmount: "20000000",
    typicalIncome: "6000000",
    details: { case: "colombia", field: "socioeconomicStratum", path: "country_details.colombia.socioeconomic_stratum", pattern: /^[1-6]$/ },
  },
  {
    code: "BR",
    proto: Country.BR,
    currency: "BRL",
    locale: "pt-BR",
    documentLabel: "CPF",
    documentExample: "529.982.247-25",
    documentPattern: /^\d{11}$/,
    maxAmount: "100000.00",
    minMonthlyIncome: "2000.00",
    fourEyesThreshold: "60000.00",
    typicalAmount: "30000",
    typicalIncome: "8000",
    details: { case: "brazil", field: "stateCode", path: "country_details.brazil.state_code", pattern: /^[A-Z]{2}$/ },
  },
];

const BY_PROTO = new Map(COUNTRIES.map((info) => [info.proto, info]));
const BY_CODE = new Map(COUNTRIES.map((info) => [info.code, info]));

export function countryInfo(country: Country): CountryInfo | undefined {
  return BY_PROTO.get(country);
}

export function countryByCode(code: string): CountryInfo | undefined {
  return BY_CODE.get(code as CountryCode);
}

/** As intake normalises before validating: separators (spaces, `.`, `-`, `/`) out, letters upper-cased. */
export function normaliseDocument(raw: string): string {
  return raw.replace(/[\s.\-/]/g, "").toUpperCase();
}
