/**
 * The new-application form as data: its values, the client-side checks for obvious mistakes, the request
 * it becomes, and where the server's field violations go.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConsentChannel, type CountryDetailsSchema } from "../../gen/globalcredit/intake/v1/application_pb";
import {
  CreateApplicationRequestSchema,
  type CreateApplicationRequest,
} from "../../gen/globalcredit/intake/v1/intake_service_pb";
import { normaliseDocument, type CountryInfo } from "../../domain/countries";
import { compareDecimal, parseAmount } from "../../domain/money";
import type { MessageKey } from "../../i18n/messages";

export type FieldName =
  | "country"
  | "fullName"
  | "document"
  | "amount"
  | "income"
  | "term"
  | "details"
  | "consentChannel"
  | "consentReference"
  | "consentGiven";

export interface FormValues {
  country: CountryInfo | null;
  fullName: string;
  document: string;
  amount: string;
  income: string;
  term: string;
  details: string;
  consentChannel: ConsentChannel;
  consentReference: string;
  /** When the applicant consented, as recorded by ticking the box; null while not given. */
  consentGrantedAt: Date | null;
}

export const EMPTY_FORM: FormValues = {
  country: null,
  fullName: "",
  document: "",
  amount: "",
  income: "",
  term: "36",
  details: "",
  consentChannel: ConsentChannel.UNSPECIFIED,
  consentReference: "",
  consentGrantedAt: null,
};

/** One problem with one field: a message key and its parameters, or the server's words. */
export interface Problem {
  key?: MessageKey;
  params?: Record<string, string | number>;
  text?: string;
}

export type Problems = Partial<Record<FieldName, Problem>>;

/** Obvious mistakes only; the server has the last word (checksums, age, duplicates). */
export function checkForm(values: FormValues): Problems {
  const problems: Problems = {};
  const country = values.country;
  if (!country) {
    problems.country = { key: "form.check.countryRequired" };
    return problems;
  }
  const words = values.fullName.trim().split(/\s+/).filter(Boolean);
  if (words.length < 2 || values.fullName.trim().length < 3) problems.fullName = { key: "form.check.fullName" };
  else if (values.fullName.trim().length > 200) problems.fullName = { key: "form.check.fullNameLong" };

  const document = normaliseDocument(values.document);
  if (!document) problems.document = { key: "form.check.documentRequired", params: { document: country.documentLabel } };
  else if (country.code === "CO" && /[A-Z]/.test(document)) problems.document = { key: "form.check.cedulaLetters" };
  else if (!country.documentPattern.test(document))
    problems.document = { key: "form.check.documentFormat", params: { document: country.documentLabel } };

  const amount = parseAmount(values.amount);
  if (!values.amount.trim()) problems.amount = { key: "form.check.amountRequired" };
  else if (amount === null) problems.amount = { key: "form.check.amountFormat" };
  else if (compareDecimal(amount, "0") <= 0) problems.amount = { key: "form.check.amountPositive" };
  else if (compareDecimal(amount, country.maxAmount) > 0) problems.amount = { key: "form.check.amountAboveMax" };

  const income = parseAmount(values.income);
  if (!values.income.trim()) problems.income = { key: "form.check.incomeRequired" };
  else if (income === null) problems.income = { key: "form.check.amountFormat" };
  else if (compareDecimal(income, country.minMonthlyIncome) < 0) problems.income = { key: "form.check.incomeBelowMin" };

  const term = values.term.trim();
  if (term && (!/^\d+$/.test(term) || Number(term) < 6 || Number(term) > 120)) problems.term = { key: "form.check.term" };

  const details = values.details.trim().toUpperCase();
  if (details && !country.details.pattern.test(details)) problems.details = { key: `form.check.details.${country.code}` };

  if (values.consentChannel === ConsentChannel.UNSPECIFIED) problems.consentChannel = { key: "form.check.consentChannel" };
  const reference = values.consentReference.trim();
  if (!reference) problems.consentReference = { key: "form.check.consentReference" };
  else if (reference.length > 128) problems.consentReference = { key: "form.check.consentReferenceLong" };
  if (!values.consentGrantedAt) problems.consentGiven = { key: "form.check.consentGiven" };
  return problems;
}

function countryDetails(
  country: CountryInfo,
  text: string,
): MessageInitShape<typeof CountryDetailsSchema> | undefined {
  const value = text.trim().toUpperCase();
  if (!value) return undefined;
  switch (country.details.case) {
    case "spain":
      return { details: { case: "spain", value: { provinceCode: value } } };
    case "portugal":
      return { details: { case: "portugal", value: { districtCode: value } } };
    case "italy":
      return { details: { case: "italy", value: { provinceCode: value } } };
    case "mexico":
      return { details: { case: "mexico", value: { stateCode: value } } };
    case "colombia":
      return { details: { case: "colombia", value: { socioeconomicStratum: Number(value) } } };
    case "brazil":
      return { details: { case: "brazil", value: { stateCode: value } } };
  }
}

/** The request for checked values. Amounts go as typed (normalised to a decimal point), never as floats. */
export function toRequest(values: FormValues, requestId: string): CreateApplicationRequest {
  const country = values.country;
  if (!country || !values.consentGrantedAt) throw new Error("toRequest before checkForm passed");
  const money = (text: string) => ({ currencyCode: country.currency, amount: parseAmount(text) ?? text.trim() });
  return create(CreateApplicationRequestSchema, {
    requestId,
    application: {
      country: country.proto,
      applicant: { fullName: values.fullName.trim(), identityDocument: values.document.trim() },
      requestedAmount: money(values.amount),
      monthlyIncome: money(values.income),
      termMonths: values.term.trim() ? Number(values.term.trim()) : 0,
      consent: {
        grantedAt: timestampFromDate(values.consentGrantedAt),
        channel: values.consentChannel,
        reference: values.consentReference.trim(),
      },
      countryDetails: countryDetails(country, values.details),
    },
  });
}

// The request's field paths (as the server names them in BadRequest) → the input that shows them.
// Longest prefix wins, so `application.requested_amount.currency_code` lands on the amount.
const FIELD_OF_PATH: ReadonlyArray<readonly [string, FieldName]> = [
  ["application.country_details", "details"],
  ["application.country", "country"],
  ["application.applicant.full_name", "fullName"],
  ["application.applicant.identity_document", "document"],
  ["application.requested_amount", "amount"],
  ["application.monthly_income", "income"],
  ["application.term_months", "term"],
  ["application.consent.channel", "consentChannel"],
  ["application.consent.reference", "consentReference"],
  ["application.consent.granted_at", "consentGiven"],
  ["application.consent", "consentGiven"],
];

/** The input a server field path belongs to; null for one the form has no input for (`request_id`). */
export function fieldOfPath(path: string): FieldName | null {
  let best: readonly [string, FieldName] | null = null;
  for (const entry of FIELD_OF_PATH) {
    const [prefix] = entry;
    if ((path === prefix || path.startsWith(`${prefix}.`)) && (!best || prefix.length > best[0].length)) best = entry;
  }
  return best ? best[1] : null;
}
