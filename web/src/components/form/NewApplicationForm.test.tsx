import { screen, waitFor, within } from "@testing-library/react";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ConsentChannel } from "../../gen/globalcredit/intake/v1/application_pb";
import { Country } from "../../gen/globalcredit/type/v1/country_pb";
import { FakeBackend, rpcError } from "../../test/fakeBackend";
import { renderApp } from "../../test/renderApp";

function openForm(backend = new FakeBackend(), role = "analyst") {
  renderApp(backend, { route: { page: "new" }, role });
  return { backend, user: userEvent.setup() };
}

async function chooseCountry(user: UserEvent, name: string) {
  await user.click(screen.getByRole("radio", { name: new RegExp(name) }));
}

/** Fills a valid Spanish application (the document can be overridden). */
async function fillSpain(user: UserEvent, document = "12345678Z") {
  await chooseCountry(user, "Spain");
  await user.type(screen.getByLabelText("Full name"), "Ana García López");
  await user.type(screen.getByLabelText("DNI / NIE"), document);
  await user.type(screen.getByLabelText("Requested amount (EUR)"), "12000");
  await user.type(screen.getByLabelText("Monthly income (EUR)"), "3200");
  await user.selectOptions(screen.getByLabelText("Channel"), "Website");
  await user.type(screen.getByLabelText("Consent reference"), "consent-0001");
  await user.click(screen.getByLabelText(/consents now/));
}

const COUNTRIES = [
  { name: "Spain", document: "DNI / NIE", example: "12345678Z", currency: "EUR", max: /50\.000,00\s€/, min: /1\.?500,00\s€/ },
  { name: "Portugal", document: "NIF", example: "123456789", currency: "EUR", max: /30\s000,00\s€/, min: /800,00\s€/ },
  { name: "Italy", document: "Codice Fiscale", example: "RSSMRA80A01H501U", currency: "EUR", max: /50\.000,00\s€/, min: /1\.?200,00\s€/ },
  { name: "Mexico", document: "CURP", example: "HERM850101MDFRRR08", currency: "MXN", max: /\$200,000\.00/, min: /\$5,000\.00/ },
  { name: "Colombia", document: "Cédula de ciudadanía", example: "1234567890", currency: "COP", max: /\$\s50\.000\.000/, min: /\$\s1\.500\.000/ },
  { name: "Brazil", document: "CPF", example: "529.982.247-25", currency: "BRL", max: /R\$\s100\.000,00/, min: /R\$\s2\.000,00/ },
];

describe("the new-application form", () => {
  it("asks for the country before anything else", () => {
    openForm();
    expect(screen.getAllByRole("radio")).toHaveLength(6);
    expect(screen.queryByLabelText("Full name")).toBeNull();
  });

  it.each(COUNTRIES)("adapts to $name: document, example, currency and limits", async (country) => {
    const { user } = openForm();
    await chooseCountry(user, country.name);
    const document = screen.getByLabelText(country.document);
    expect(document).toHaveAttribute("placeholder", country.example);
    expect(document).toHaveAccessibleDescription(new RegExp(`Example: ${country.example.replace(/\./g, "\\.")}`));
    const amount = screen.getByLabelText(`Requested amount (${country.currency})`);
    expect(amount).toHaveAccessibleDescription(country.max);
    expect(screen.getByLabelText(`Monthly income (${country.currency})`)).toHaveAccessibleDescription(country.min);
  });

  it("catches obvious mistakes before sending anything", async () => {
    const { backend, user } = openForm();
    await chooseCountry(user, "Mexico");
    await user.type(screen.getByLabelText("Full name"), "Maria");
    await user.type(screen.getByLabelText("CURP"), "HERM85");
    await user.type(screen.getByLabelText("Requested amount (MXN)"), "250000");
    await user.type(screen.getByLabelText("Monthly income (MXN)"), "4000");
    await user.click(screen.getByRole("button", { name: "Submit application" }));

    expect(screen.getByLabelText("Full name")).toHaveAccessibleDescription(/at least two words/);
    expect(screen.getByLabelText("CURP")).toHaveAccessibleDescription(/does not look like a CURP/);
    expect(screen.getByLabelText("Requested amount (MXN)")).toHaveAccessibleDescription(/most this country lends is \$200,000\.00/);
    expect(screen.getByLabelText("Monthly income (MXN)")).toHaveAccessibleDescription(/at least \$5,000\.00/);
    expect(screen.getByLabelText(/consents now/)).toHaveAccessibleDescription(/consent is required/);
    expect(screen.getByLabelText("Full name")).toHaveFocus();
    expect(backend.createRequests).toHaveLength(0);
  });

  it("refuses letters in a Colombian cédula but accepts separators", async () => {
    const { user } = openForm();
    await chooseCountry(user, "Colombia");
    const cedula = screen.getByLabelText("Cédula de ciudadanía");
    await user.type(cedula, "12A4567");
    await user.click(screen.getByRole("button", { name: "Submit application" }));
    expect(cedula).toHaveAccessibleDescription(/digits only/);
    await user.clear(cedula);
    await user.type(cedula, "1.234.567");
    await user.click(screen.getByRole("button", { name: "Submit application" }));
    expect(cedula).not.toHaveAccessibleDescription(/digits only|does not look/);
  });

  it("sends the application with the country's currency, the consent and a request id", async () => {
    const { backend, user } = openForm();
    await fillSpain(user);
    await user.click(screen.getByRole("button", { name: "Submit application" }));
    await waitFor(() => expect(screen.getByRole("heading", { name: "Application submitted" })).toBeInTheDocument());
    expect(backend.createRequests).toHaveLength(1);
    const [request] = backend.createRequests;
    expect(request.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.application).toMatchObject({
      country: Country.ES,
      applicant: { fullName: "Ana García López", identityDocument: "12345678Z" },
      requestedAmount: { currencyCode: "EUR", amount: "12000" },
      monthlyIncome: { currencyCode: "EUR", amount: "3200" },
      termMonths: 36,
      consent: { channel: ConsentChannel.WEB, reference: "consent-0001" },
    });
    expect(request.application?.consent?.grantedAt?.seconds).toBeGreaterThan(0n);
  });

  it("places the server's field violations next to their fields", async () => {
    const backend = new FakeBackend();
    backend.createFailures.push(
      rpcError(Code.InvalidArgument, "INVALID_APPLICATION", {
        violations: [
          { field: "application.applicant.identity_document", reason: "IDENTITY_DOCUMENT_CHECKSUM_INVALID" },
          { field: "application.requested_amount.currency_code", reason: "CURRENCY_MISMATCH" },
          { field: "application.consent.reference", reason: "SOMETHING_NEW", description: "the reference is not on file" },
        ],
      }),
    );
    const { user } = openForm(backend);
    await fillSpain(user, "12345678A");
    await user.click(screen.getByRole("button", { name: "Submit application" }));

    const document = await screen.findByLabelText("DNI / NIE");
    await waitFor(() => expect(document).toHaveAccessibleDescription(/check character does not match/));
    expect(document).toHaveAttribute("aria-invalid", "true");
    expect(document).toHaveFocus();
    expect(screen.getByLabelText("Requested amount (EUR)")).toHaveAccessibleDescription(/currency must be EUR/);
    // A reason the console has no words for shows the server's own description.
    expect(screen.getByLabelText("Consent reference")).toHaveAccessibleDescription(/not on file/);
    expect(screen.getByLabelText("Full name")).not.toHaveAttribute("aria-invalid");
  });

  it("shows the violations in Spanish when the console is in Spanish", async () => {
    const backend = new FakeBackend();
    backend.createFailures.push(
      rpcError(Code.InvalidArgument, "INVALID_APPLICATION", {
        violations: [{ field: "application.applicant.identity_document", reason: "IDENTITY_DOCUMENT_CHECKSUM_INVALID" }],
      }),
    );
    renderApp(backend, { route: { page: "new" }, language: "es" });
    const user = userEvent.setup();
    await user.click(screen.getByRole("radio", { name: /España/ }));
    await user.type(screen.getByLabelText("Nombre completo"), "Ana García López");
    await user.type(screen.getByLabelText("DNI / NIE"), "12345678A");
    await user.type(screen.getByLabelText("Importe solicitado (EUR)"), "12000");
    await user.type(screen.getByLabelText("Ingresos mensuales (EUR)"), "3200");
    await user.selectOptions(screen.getByLabelText("Canal"), "Sitio web");
    await user.type(screen.getByLabelText("Referencia del consentimiento"), "c-1");
    await user.click(screen.getByLabelText(/consiente ahora/));
    await user.click(screen.getByRole("button", { name: "Enviar solicitud" }));
    await waitFor(() =>
      expect(screen.getByLabelText("DNI / NIE")).toHaveAccessibleDescription(/el carácter de control no coincide/),
    );
  });

  it("keeps one request id across a double click, so only one application is created", async () => {
    const { backend, user } = openForm();
    await fillSpain(user);
    const submit = screen.getByRole("button", { name: "Submit application" });
    await user.dblClick(submit);
    await waitFor(() => expect(screen.getByRole("heading", { name: "Application submitted" })).toBeInTheDocument());
    expect(new Set(backend.createRequests.map((request) => request.requestId)).size).toBe(1);
    expect(backend.applications).toHaveLength(1);
  });

  it("retries with the same request id after a lost answer, and a new form gets a new one", async () => {
    const backend = new FakeBackend();
    backend.createFailures.push(new ConnectError("network down", Code.Unavailable));
    const { user } = openForm(backend);
    await fillSpain(user);
    await user.click(screen.getByRole("button", { name: "Submit application" }));
    await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent(/cannot be reached/));
    await user.click(screen.getByRole("button", { name: "Submit application" }));
    await waitFor(() => expect(screen.getByRole("heading", { name: "Application submitted" })).toBeInTheDocument());
    expect(backend.createRequests).toHaveLength(2);
    expect(backend.createRequests[1].requestId).toBe(backend.createRequests[0].requestId);

    await user.click(screen.getByRole("button", { name: "New application" }));
    await fillSpain(user, "X1234567L");
    await user.click(screen.getByRole("button", { name: "Submit application" }));
    await waitFor(() => expect(backend.createRequests).toHaveLength(3));
    expect(backend.createRequests[2].requestId).not.toBe(backend.createRequests[0].requestId);
  });

  it("links to the open application when the document already has one", async () => {
    const backend = new FakeBackend();
    backend.createFailures.push(
      rpcError(Code.AlreadyExists, "DUPLICATE_APPLICATION", { metadata: { application: "applications/0190-dup" } }),
    );
    const { user } = openForm(backend);
    await fillSpain(user);
    await user.click(screen.getByRole("button", { name: "Submit application" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("already has an open application");
    expect(within(alert).getByRole("link", { name: "Open the existing application" })).toHaveAttribute("href", "#/applications/0190-dup");
  });
});
