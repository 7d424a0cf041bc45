import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { ApplicationStatus } from "../../gen/globalcredit/intake/v1/application_pb";
import { Country } from "../../gen/globalcredit/type/v1/country_pb";
import { RiskLevel } from "../../gen/globalcredit/type/v1/decision_pb";
import { Code } from "@connectrpc/connect";
import { FakeBackend, makeApplication, rpcError } from "../../test/fakeBackend";
import { renderApp } from "../../test/renderApp";

function rowOf(name: string): HTMLElement {
  const row = document.querySelector<HTMLElement>(`tr[data-name="${name}"]`);
  if (!row) throw new Error(`no row for ${name}`);
  return row;
}

async function live() {
  await waitFor(() => expect(document.querySelector("[data-watch-state]")).toHaveTextContent("Live"));
}

describe("the queue", () => {
  it("formats each amount in the application's own currency and locale", async () => {
    const backend = new FakeBackend().add(
      makeApplication({ country: Country.ES, requestedAmount: { currencyCode: "EUR", amount: "12000.00" } }),
      makeApplication({ country: Country.MX, requestedAmount: { currencyCode: "MXN", amount: "90000.00" } }),
      makeApplication({ country: Country.BR, requestedAmount: { currencyCode: "BRL", amount: "30000.50" } }),
      makeApplication({ country: Country.CO, requestedAmount: { currencyCode: "COP", amount: "20000000.00" } }),
    );
    renderApp(backend);
    const [es, mx, br, co] = backend.applications.slice().reverse();
    await waitFor(() => expect(rowOf(es.name)).toHaveTextContent(/12\.000,00\s€/));
    expect(rowOf(mx.name)).toHaveTextContent(/\$90,000\.00/);
    expect(rowOf(br.name)).toHaveTextContent(/R\$\s30\.000,50/);
    expect(rowOf(co.name)).toHaveTextContent(/\$\s20\.000\.000\b/);
  });

  it("shows status as words and icon, with risk score and level", async () => {
    const application = makeApplication({
      status: ApplicationStatus.UNDER_REVIEW,
      decision: { riskScore: "42.50", riskLevel: RiskLevel.MEDIUM },
    });
    renderApp(new FakeBackend().add(application));
    await waitFor(() => expect(rowOf(application.name)).toHaveTextContent("Under review"));
    const row = rowOf(application.name);
    expect(within(row).getByText("Under review").closest("[data-status]")).toHaveAttribute("data-status", "UNDER_REVIEW");
    expect(row).toHaveTextContent("42.50");
    expect(row).toHaveTextContent("Medium");
  });

  it("filters by country and status on the server", async () => {
    const spanish = makeApplication({ country: Country.ES, status: ApplicationStatus.APPROVED });
    const italian = makeApplication({
      country: Country.IT,
      status: ApplicationStatus.UNDER_REVIEW,
      requestedAmount: { currencyCode: "EUR", amount: "15000.00" },
    });
    const backend = new FakeBackend().add(spanish, italian);
    renderApp(backend);
    const user = userEvent.setup();
    await waitFor(() => expect(rowOf(spanish.name)).toBeInTheDocument());

    await user.selectOptions(screen.getByLabelText("Country"), "Italy");
    await waitFor(() => expect(document.querySelector(`tr[data-name="${spanish.name}"]`)).toBeNull());
    expect(rowOf(italian.name)).toBeInTheDocument();
    expect(backend.listRequests.at(-1)).toMatchObject({ country: Country.IT, status: ApplicationStatus.UNSPECIFIED });

    await user.selectOptions(screen.getByLabelText("Status"), "Approved");
    await waitFor(() => expect(screen.getByText("No applications match these filters.")).toBeInTheDocument());
    expect(backend.listRequests.at(-1)).toMatchObject({ country: Country.IT, status: ApplicationStatus.APPROVED, pageToken: "" });
  });

  it("pages forward and back with the server's page tokens", async () => {
    const backend = new FakeBackend();
    const all = Array.from({ length: 45 }, () => makeApplication());
    backend.add(...all);
    renderApp(backend);
    const user = userEvent.setup();
    const newest = backend.applications[0];
    const twentyFirst = backend.applications[20];
    const fortyFirst = backend.applications[40];
    await waitFor(() => expect(rowOf(newest.name)).toBeInTheDocument());
    expect(screen.getByRole("button", { name: /Previous/ })).toBeDisabled();
    expect(screen.getAllByRole("row")).toHaveLength(21);

    await user.click(screen.getByRole("button", { name: /Next/ }));
    await waitFor(() => expect(rowOf(twentyFirst.name)).toBeInTheDocument());
    expect(screen.getByText("Page 2")).toBeInTheDocument();
    expect(backend.listRequests.at(-1)?.pageToken).toBe("after:20");

    await user.click(screen.getByRole("button", { name: /Next/ }));
    await waitFor(() => expect(rowOf(fortyFirst.name)).toBeInTheDocument());
    expect(screen.getByRole("button", { name: /Next/ })).toBeDisabled();

    await user.click(screen.getByRole("button", { name: /Previous/ }));
    await waitFor(() => expect(rowOf(twentyFirst.name)).toBeInTheDocument());
    expect(backend.listRequests.at(-1)?.pageToken).toBe("after:20");

    await user.click(screen.getByRole("button", { name: /Previous/ }));
    await waitFor(() => expect(rowOf(newest.name)).toBeInTheDocument());
    expect(backend.listRequests.at(-1)?.pageToken).toBe("");
    expect(screen.getByRole("button", { name: /Previous/ })).toBeDisabled();
  });

  it("updates a row in place when its status changes live, and highlights it", async () => {
    const application = makeApplication({ status: ApplicationStatus.VALIDATING });
    const backend = new FakeBackend().add(application, makeApplication());
    renderApp(backend);
    await waitFor(() => expect(rowOf(application.name)).toHaveTextContent("Validating"));
    await live();
    const before = rowOf(application.name);

    application.decision = { $typeName: "globalcredit.type.v1.Decision", outcome: 1, riskScore: "12.00", riskLevel: RiskLevel.LOW, reasons: [], ruleSetVersion: "ES-2026.1" };
    backend.changeStatus(application.name, ApplicationStatus.APPROVED, "12.00");

    await waitFor(() => expect(rowOf(application.name)).toHaveTextContent("Approved"));
    expect(rowOf(application.name)).toBe(before); // the same row element: updated, not re-added
    expect(rowOf(application.name)).toHaveClass("row-changed");
    expect(rowOf(application.name)).toHaveTextContent("12.00");
    await waitFor(() => expect(rowOf(application.name)).toHaveTextContent("Low"));
    expect(screen.getByTestId("queue-announcement")).toHaveTextContent(/is now Approved/);
  });

  it("adds an application it has not seen when its first change arrives", async () => {
    const backend = new FakeBackend().add(makeApplication());
    renderApp(backend);
    await live();
    const fresh = makeApplication({ country: Country.PT, requestedAmount: { currencyCode: "EUR", amount: "8000.00" } });
    backend.add(fresh);
    backend.changeStatus(fresh.name, ApplicationStatus.VALIDATING);
    await waitFor(() => expect(rowOf(fresh.name)).toHaveTextContent("Validating"));
    expect(screen.getAllByRole("row")[1]).toBe(rowOf(fresh.name)); // newest on top
  });

  it("reconnects by itself and resumes after the last event it saw", async () => {
    const application = makeApplication({ status: ApplicationStatus.VALIDATING });
    const backend = new FakeBackend().add(application);
    renderApp(backend);
    await live();
    const event = backend.changeStatus(application.name, ApplicationStatus.UNDER_REVIEW);
    await waitFor(() => expect(rowOf(application.name)).toHaveTextContent("Under review"));

    backend.dropWatches();
    await waitFor(() => expect(backend.watchRequests).toHaveLength(2));
    expect(backend.watchRequests[0].resumeToken).toBe("");
    expect(backend.watchRequests[1].resumeToken).toBe(event.resumeToken);
    await live();

    backend.changeStatus(application.name, ApplicationStatus.APPROVED);
    await waitFor(() => expect(rowOf(application.name)).toHaveTextContent("Approved"));
  });

  it("says it is reconnecting while the stream is down", async () => {
    const backend = new FakeBackend().add(makeApplication());
    renderApp(backend, { backoffMs: 60_000 });
    await live();
    backend.dropWatches();
    await waitFor(() => expect(document.querySelector("[data-watch-state]")).toHaveTextContent("Reconnecting…"));
  });

  it("says it is not live when the identity may not watch", async () => {
    const backend = new FakeBackend().add(makeApplication());
    backend.watchFailure = rpcError(Code.PermissionDenied, "ROLE_NOT_ALLOWED");
    renderApp(backend);
    await waitFor(() => expect(document.querySelector("[data-watch-state]")).toHaveTextContent("Not live"));
    expect(backend.watchRequests).toHaveLength(1); // and it does not hammer the server
  });

  it("switches to Spanish and remembers the choice", async () => {
    const application = makeApplication({ status: ApplicationStatus.UNDER_REVIEW });
    renderApp(new FakeBackend().add(application));
    const user = userEvent.setup();
    await waitFor(() => expect(rowOf(application.name)).toHaveTextContent("Under review"));
    await user.selectOptions(screen.getByLabelText("Language"), "es");
    expect(rowOf(application.name)).toHaveTextContent("En revisión");
    expect(screen.getByRole("heading", { name: "Solicitudes" })).toBeInTheDocument();
    expect(screen.getByLabelText("País")).toBeInTheDocument();
    expect(window.localStorage.getItem("gcc.console.language")).toBe("es");
    expect(document.documentElement.lang).toBe("es");
  });

  it("sends the bearer token with every call", async () => {
    const backend = new FakeBackend().add(makeApplication());
    renderApp(backend);
    await waitFor(() => expect(backend.listRequests.length).toBeGreaterThan(0));
    expect(backend.authorizations.every((value) => value?.startsWith("Bearer "))).toBe(true);
  });
});
