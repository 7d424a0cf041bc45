import { describe, expect, it } from "vitest";
import { countryByCode } from "../../domain/countries";
import { ConsentChannel } from "../../gen/globalcredit/intake/v1/application_pb";
import { EMPTY_FORM, checkForm, fieldOfPath, toRequest, type FormValues } from "./model";

const valid = (code: string, document: string, amount: string, income: string): FormValues => ({
  ...EMPTY_FORM,
  country: countryByCode(code) ?? null,
  fullName: "Ana García",
  document,
  amount,
  income,
  consentChannel: ConsentChannel.BRANCH,
  consentReference: "ref-1",
  consentGrantedAt: new Date(),
});

describe("the form model", () => {
  it.each([
    ["ES", "12345678Z"],
    ["ES", "x1234567l"],
    ["PT", "123456789"],
    ["IT", "RSSMRA80A01H501U"],
    ["MX", "HERM850101MDFRRR08"],
    ["CO", "1.234.567"],
    ["BR", "529.982.247-25"],
  ])("accepts the shape of a %s document %s", (code, document) => {
    const country = countryByCode(code)!;
    expect(checkForm(valid(code, document, country.typicalAmount, country.typicalIncome))).toEqual({});
  });

  it("leaves checksums to the server", () => {
    expect(checkForm(valid("ES", "12345678A", "12000", "3200")).document).toBeUndefined();
  });

  it("sends the optional country details as their oneof case", () => {
    const request = toRequest({ ...valid("CO", "1234567890", "1000000", "1500000"), details: "3" }, "id-1");
    expect(request.application?.countryDetails?.details).toEqual(
      expect.objectContaining({ case: "colombia", value: expect.objectContaining({ socioeconomicStratum: 3 }) }),
    );
  });

  it.each([
    ["application.applicant.identity_document", "document"],
    ["application.applicant.full_name", "fullName"],
    ["application.requested_amount.amount", "amount"],
    ["application.requested_amount.currency_code", "amount"],
    ["application.monthly_income.amount", "income"],
    ["application.term_months", "term"],
    ["application.consent", "consentGiven"],
    ["application.consent.granted_at", "consentGiven"],
    ["application.consent.reference", "consentReference"],
    ["application.consent.channel", "consentChannel"],
    ["application.country", "country"],
    ["application.country_details.spain.province_code", "details"],
    ["request_id", null],
  ])("maps %s to the %s input", (path, field) => {
    expect(fieldOfPath(path)).toBe(field);
  });
});
