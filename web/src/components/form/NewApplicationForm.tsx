/** A new application: country first, then fields that follow the country's rules. */
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Code } from "@connectrpc/connect";
import { canSubmit } from "../../auth/principal";
import { usePrincipal } from "../../auth/session";
import { COUNTRIES, type CountryInfo } from "../../domain/countries";
import { formatMoney } from "../../domain/money";
import { ConsentChannel, type Application } from "../../gen/globalcredit/intake/v1/application_pb";
import type { ApiError } from "../../api/errors";
import { useCreateApplication } from "../../hooks/useCreateApplication";
import { useFocusOnMount } from "../../hooks/useFocusOnMount";
import { errorMessage } from "../../i18n/errors";
import { useI18n, type Params } from "../../i18n/I18nProvider";
import { isMessageKey } from "../../i18n/messages";
import { hrefOf } from "../../router";
import { StatusBadge } from "../StatusBadge";
import { Field } from "./Field";
import { EMPTY_FORM, checkForm, fieldOfPath, toRequest, type FieldName, type FormValues, type Problem, type Problems } from "./model";

const CHANNELS: readonly [ConsentChannel, "WEB" | "MOBILE_APP" | "BRANCH" | "PHONE" | "PARTNER"][] = [
  [ConsentChannel.WEB, "WEB"],
  [ConsentChannel.MOBILE_APP, "MOBILE_APP"],
  [ConsentChannel.BRANCH, "BRANCH"],
  [ConsentChannel.PHONE, "PHONE"],
  [ConsentChannel.PARTNER, "PARTNER"],
];

// The order problems are focused in: the first one in the form gets the focus.
const FIELD_ORDER: readonly FieldName[] = [
  "country", "fullName", "document", "amount", "income", "term", "details", "consentChannel", "consentReference", "consentGiven",
];

export function NewApplicationForm() {
  const { t, formatDateTime } = useI18n();
  const principal = usePrincipal();
  const { submit, submitting, reset } = useCreateApplication();
  const [values, setValues] = useState<FormValues>(EMPTY_FORM);
  const [problems, setProblems] = useState<Problems>({});
  const [otherProblems, setOtherProblems] = useState<Problem[]>([]);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [created, setCreated] = useState<Application | null>(null);
  const [focusFirst, setFocusFirst] = useState(0);
  const base = useId();
  const ids = Object.fromEntries(FIELD_ORDER.map((name) => [name, `${base}-${name}`])) as Record<FieldName, string>;
  const failureRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!focusFirst) return;
    const first = FIELD_ORDER.find((name) => problems[name]);
    const target = first
      ? document.getElementById(first === "country" ? `${ids.country}-ES` : ids[first])
      : failureRef.current;
    target?.focus();
    // Only after a submit (focusFirst counts them), not on every edit.
  }, [focusFirst]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!canSubmit(principal)) {
    return <p className="notice notice-warning">{t("form.notAllowed")}</p>;
  }

  const country = values.country;
  const countryParams: Params = country
    ? {
        max: formatMoney(country.maxAmount, country.currency, country.locale),
        min: formatMoney(country.minMonthlyIncome, country.currency, country.locale),
        currency: country.currency,
        document: country.documentLabel,
        example: country.documentExample,
      }
    : {};
  const say = (problem: Problem | undefined) =>
    problem ? (problem.key ? t(problem.key, { ...countryParams, ...problem.params }) : problem.text ?? "") : null;

  function set<K extends keyof FormValues>(name: K, value: FormValues[K]) {
    setValues((current) => ({ ...current, [name]: value }));
    const field = name === "consentGrantedAt" ? "consentGiven" : (name as FieldName);
    setProblems((current) => (current[field] ? { ...current, [field]: undefined } : current));
  }

  function chooseCountry(next: CountryInfo) {
    setValues((current) => ({ ...current, country: next, document: "", details: "" }));
    setProblems({});
    setOtherProblems([]);
    setFailure(null);
  }

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (submitting) return;
    setFailure(null);
    setOtherProblems([]);
    const found = checkForm(values);
    setProblems(found);
    if (Object.values(found).some(Boolean)) {
      setFocusFirst((n) => n + 1);
      return;
    }
    const result = await submit((requestId) => toRequest(values, requestId));
    if (result.ok) {
      setCreated(result.application);
      return;
    }
    const { error } = result;
    if (error.code === Code.InvalidArgument && error.violations.length > 0) {
      const byField: Problems = {};
      const elsewhere: Problem[] = [];
      for (const violation of error.violations) {
        const key = `violation.${violation.reason}`;
        const problem: Problem = isMessageKey(key) ? { key } : { text: violation.description };
        const field = fieldOfPath(violation.field);
        if (field && !byField[field]) byField[field] = problem;
        else if (!field) elsewhere.push(problem);
      }
      setProblems(byField);
      setOtherProblems(elsewhere);
      if (elsewhere.length > 0) setFailure(error);
    } else {
      setFailure(error);
    }
    setFocusFirst((n) => n + 1);
  }

  function startOver() {
    reset();
    setValues(EMPTY_FORM);
    setProblems({});
    setOtherProblems([]);
    setFailure(null);
    setCreated(null);
  }

  if (created) {
    return (
      <section className="panel created" aria-labelledby={`${base}-created`}>
        <CreatedHeading id={`${base}-created`}>{t("form.created.title")}</CreatedHeading>
        <p>
          {t("form.created.body")} <code>{created.name}</code> <StatusBadge status={created.status} />
        </p>
        <div className="actions">
          <a className="button primary" href={hrefOf({ page: "detail", name: created.name })}>
            {t("form.created.view")}
          </a>
          <a className="button" href={hrefOf({ page: "queue" })}>
            {t("form.created.queue")}
          </a>
          <button type="button" className="button ghost" onClick={startOver}>
            {t("form.created.another")}
          </button>
        </div>
      </section>
    );
  }

  return (
    <form className="panel form" onSubmit={onSubmit} noValidate aria-labelledby={`${base}-title`}>
      <h1 id={`${base}-title`}>{t("form.title")}</h1>

      <fieldset className="country-picker" aria-describedby={problems.country ? `${ids.country}-error` : undefined}>
        <legend>{t("form.country.legend")}</legend>
        <div className="country-grid">
          {COUNTRIES.map((info) => (
            <label key={info.code} className={`country-card${country?.code === info.code ? " selected" : ""}`}>
              <input
                type="radio"
                name={`${base}-country`}
                id={`${ids.country}-${info.code}`}
                value={info.code}
                checked={country?.code === info.code}
                onChange={() => chooseCountry(info)}
              />
              <span className="country-code" aria-hidden="true">
                {info.code}
              </span>
              <span className="country-name">{t(`country.${info.code}`)}</span>
              <span className="country-meta">
                {info.currency} · {info.documentLabel}
              </span>
            </label>
          ))}
        </div>
        {problems.country && (
          <p className="field-error" id={`${ids.country}-error`}>
            {say(problems.country)}
          </p>
        )}
      </fieldset>

      {country && (
        <>
          <fieldset className="group">
            <legend>{t("form.applicant.legend")}</legend>
            <Field id={ids.fullName} label={t("form.fullName.label")} hint={t("form.fullName.hint")} error={say(problems.fullName)}>
              {(control) => (
                <input {...control} type="text" autoComplete="off" value={values.fullName} onChange={(e) => set("fullName", e.target.value)} />
              )}
            </Field>
            <Field
              id={ids.document}
              label={country.documentLabel}
              hint={`${t(`form.document.hint.${country.code}`)} ${t("form.example", { example: country.documentExample })}`}
              error={say(problems.document)}
            >
              {(control) => (
                <input
                  {...control}
                  type="text"
                  autoComplete="off"
                  spellCheck={false}
                  className="mono"
                  placeholder={country.documentExample}
                  value={values.document}
                  onChange={(e) => set("document", e.target.value)}
                />
              )}
            </Field>
          </fieldset>

          <fieldset className="group">
            <legend>{t("form.loan.legend")}</legend>
            <div className="row">
              <Field
                id={ids.amount}
                label={t("form.amount.label", { currency: country.currency })}
                hint={t("form.amount.hint", countryParams)}
                error={say(problems.amount)}
              >
                {(control) => (
                  <div className="money-input">
                    <input {...control} type="text" inputMode="decimal" autoComplete="off" placeholder={country.typicalAmount} value={values.amount} onChange={(e) => set("amount", e.target.value)} />
                    <span className="currency" aria-hidden="true">
                      {country.currency}
                    </span>
                  </div>
                )}
              </Field>
              <Field
                id={ids.income}
                label={t("form.income.label", { currency: country.currency })}
                hint={t("form.income.hint", countryParams)}
                error={say(problems.income)}
              >
                {(control) => (
                  <div className="money-input">
                    <input {...control} type="text" inputMode="decimal" autoComplete="off" placeholder={country.typicalIncome} value={values.income} onChange={(e) => set("income", e.target.value)} />
                    <span className="currency" aria-hidden="true">
                      {country.currency}
                    </span>
                  </div>
                )}
              </Field>
            </div>
            <div className="row">
              <Field id={ids.term} label={t("form.term.label")} hint={t("form.term.hint")} error={say(problems.term)}>
                {(control) => (
                  <input {...control} type="text" inputMode="numeric" autoComplete="off" value={values.term} onChange={(e) => set("term", e.target.value)} />
                )}
              </Field>
              <Field
                id={ids.details}
                label={t(`form.details.label.${country.code}`)}
                hint={t(`form.details.hint.${country.code}`)}
                error={say(problems.details)}
              >
                {(control) => (
                  <input {...control} type="text" autoComplete="off" value={values.details} onChange={(e) => set("details", e.target.value)} />
                )}
              </Field>
            </div>
          </fieldset>

          <fieldset className="group">
            <legend>{t("form.consent.legend")}</legend>
            <div className="row">
              <Field id={ids.consentChannel} label={t("form.consent.channel")} error={say(problems.consentChannel)}>
                {(control) => (
                  <select {...control} value={values.consentChannel} onChange={(e) => set("consentChannel", Number(e.target.value) as ConsentChannel)}>
                    <option value={ConsentChannel.UNSPECIFIED}>{t("form.consent.channel.choose")}</option>
                    {CHANNELS.map(([value, key]) => (
                      <option key={key} value={value}>
                        {t(`channel.${key}`)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <Field id={ids.consentReference} label={t("form.consent.reference")} hint={t("form.consent.reference.hint")} error={say(problems.consentReference)}>
                {(control) => (
                  <input {...control} type="text" autoComplete="off" value={values.consentReference} onChange={(e) => set("consentReference", e.target.value)} />
                )}
              </Field>
            </div>
            <div className={`check${problems.consentGiven ? " field-invalid" : ""}`}>
              <input
                id={ids.consentGiven}
                type="checkbox"
                checked={values.consentGrantedAt !== null}
                aria-invalid={problems.consentGiven ? true : undefined}
                aria-describedby={`${ids.consentGiven}-hint${problems.consentGiven ? ` ${ids.consentGiven}-error` : ""}`}
                onChange={(e) => set("consentGrantedAt", e.target.checked ? new Date() : null)}
              />
              <label htmlFor={ids.consentGiven}>{t("form.consent.given")}</label>
              <p className="hint" id={`${ids.consentGiven}-hint`}>
                {values.consentGrantedAt
                  ? t("form.consent.givenAt", { time: formatDateTime(values.consentGrantedAt) })
                  : t("form.consent.given.hint")}
              </p>
              {problems.consentGiven && (
                <p className="field-error" id={`${ids.consentGiven}-error`}>
                  <span aria-hidden="true">⚠ </span>
                  {say(problems.consentGiven)}
                </p>
              )}
            </div>
          </fieldset>

          {failure && (
            <div className="notice notice-danger" role="alert" tabIndex={-1} ref={failureRef}>
              <p>{errorMessage(t, failure)}</p>
              {otherProblems.length > 0 && (
                <ul>
                  {otherProblems.map((problem, index) => (
                    <li key={index}>{say(problem)}</li>
                  ))}
                </ul>
              )}
              {failure.reason === "DUPLICATE_APPLICATION" && failure.metadata.application && (
                <a href={hrefOf({ page: "detail", name: failure.metadata.application })}>{t("form.duplicate.open")}</a>
              )}
            </div>
          )}
          {Object.values(problems).some(Boolean) && (
            <p className="notice notice-danger" role="alert">
              {t("form.fixFields")}
            </p>
          )}

          <div className="actions">
            <button type="submit" className="button primary" disabled={submitting} aria-busy={submitting}>
              {submitting ? t("form.submitting") : t("form.submit")}
            </button>
          </div>
        </>
      )}
    </form>
  );
}

function CreatedHeading({ id, children }: { id: string; children: string }) {
  const ref = useFocusOnMount<HTMLHeadingElement>();
  return (
    <h1 id={id} tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}
