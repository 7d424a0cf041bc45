import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  ApplicationStatus,
  AuditEventKind,
  AuditEventSchema,
  IdentityDocumentType,
  type Application,
} from "../../gen/globalcredit/intake/v1/application_pb";
import { DecisionOutcome, RiskLevel, RuleEffect } from "../../gen/globalcredit/type/v1/decision_pb";
import { FakeBackend, makeApplication, rpcError, type ApplicationInit } from "../../test/fakeBackend";
import { renderApp } from "../../test/renderApp";

function reviewed(init: ApplicationInit = {}): Application {
  return makeApplication(({
    status: ApplicationStatus.UNDER_REVIEW,
    applicant: { fullName: "Ana García López", identityDocument: "*****678Z", identityDocumentType: IdentityDocumentType.ES_DNI },
    consent: { channel: 1, reference: "consent-0001", grantedAt: timestampFromDate(new Date("2026-01-15T08:59:00Z")) },
    decision: {
      outcome: DecisionOutcome.REVIEW,
      riskScore: "25.00",
      riskLevel: RiskLevel.LOW,
      ruleSetVersion: "ES-2026.1",
      reasons: [
        {
          code: "BUREAU_FALLBACK",
          effect: RuleEffect.SOFT,
          points: 0,
          observed: "true",
          threshold: "true",
          message: "The bureau could not be reached; a person decides.",
          localizedMessages: {
            en: "The bureau could not be reached; a person decides.",
            es: "No se pudo consultar el buró; decide una persona.",
          },
        },
        {
          code: "BUREAU_NO_SCORE",
          effect: RuleEffect.SOFT,
          points: 10,
          observed: "",
          threshold: "",
          message: "The bureau has no score for the applicant.",
          localizedMessages: { es: "El buró no tiene puntuación del solicitante." },
        },
        {
          code: "ES_PTI",
          effect: RuleEffect.SOFT,
          points: 20,
          observed: "36.50",
          threshold: "35",
          message: "Repayments take 36.50% of income, above 35%.",
          localizedMessages: {},
        },
      ],
    },
    creditReport: {
      provider: "ASNEF",
      fallback: true,
      totalDebt: { currencyCode: "EUR", amount: "0.00" },
      monthlyObligations: { currencyCode: "EUR", amount: "0.00" },
    },
    ...init,
  }) as ApplicationInit);
}

function withTrail(backend: FakeBackend, application: Application) {
  backend.events.set(application.name, [
    create(AuditEventSchema, {
      sequence: 1n,
      kind: AuditEventKind.CREATED,
      occurTime: timestampFromDate(new Date("2026-01-15T09:00:00Z")),
      actor: "dev-analyst",
      toStatus: ApplicationStatus.PENDING,
      reason: "created",
    }),
    create(AuditEventSchema, {
      sequence: 2n,
      kind: AuditEventKind.STATUS_CHANGED,
      occurTime: timestampFromDate(new Date("2026-01-15T09:00:01Z")),
      actor: "scoring",
      fromStatus: ApplicationStatus.PENDING,
      toStatus: ApplicationStatus.VALIDATING,
      reason: "scoring started",
    }),
    create(AuditEventSchema, {
      sequence: 3n,
      kind: AuditEventKind.STATUS_CHANGED,
      occurTime: timestampFromDate(new Date("2026-01-15T09:00:02Z")),
      actor: "scoring",
      fromStatus: ApplicationStatus.VALIDATING,
      toStatus: ApplicationStatus.UNDER_REVIEW,
      reason: "DECISION_REVIEW",
    }),
  ]);
  return backend;
}

function open(application: Application, options: { role?: string; language?: "en" | "es"; claims?: Record<string, unknown> } = {}) {
  const backend = withTrail(new FakeBackend().add(application), application);
  renderApp(backend, { route: { page: "detail", name: application.name }, ...options });
  return { backend, user: userEvent.setup() };
}

async function loaded() {
  await screen.findByRole("heading", { name: /Audit trail/ });
  await waitFor(() => expect(document.querySelectorAll("tr[data-sequence]").length).toBeGreaterThan(0));
}

describe("the application detail", () => {
  it("shows the applicant with the document masked, and the amounts in the country's format", async () => {
    open(reviewed());
    await loaded();
    const applicant = screen.getByRole("region", { name: "Applicant" });
    expect(within(applicant).getByText("DNI")).toBeInTheDocument();
    expect(within(applicant).getByText(/\*{5}678Z/)).toBeInTheDocument();
    const loan = screen.getByRole("region", { name: "Loan" });
    expect(loan).toHaveTextContent(/12\.000,00\s€/);
    expect(loan).toHaveTextContent(/3200,00\s€/);
  });

  it("gives every reason in plain words with observed value and threshold", async () => {
    open(reviewed());
    await loaded();
    const decision = screen.getByRole("region", { name: "Decision" });
    expect(decision).toHaveTextContent("Review");
    expect(decision).toHaveTextContent("ES-2026.1");
    const reasons = within(decision).getAllByRole("listitem");
    expect(reasons).toHaveLength(3);
    expect(reasons[2]).toHaveTextContent("Repayments take 36.50% of income, above 35%.");
    expect(reasons[2]).toHaveTextContent("Observed 36.50 · threshold 35");
    expect(reasons[2]).toHaveTextContent("+20 points");
    expect(reasons[0]).not.toHaveTextContent("Observed"); // a flag: nothing to compare
  });

  it("gives the reasons in the UI language, falling back to English", async () => {
    open(reviewed(), { language: "es" });
    await screen.findByRole("heading", { name: /Registro de auditoría/ });
    const decision = screen.getByRole("region", { name: "Decisión" });
    await waitFor(() => expect(decision).toHaveTextContent("No se pudo consultar el buró; decide una persona."));
    expect(decision).toHaveTextContent("El buró no tiene puntuación del solicitante.");
    expect(decision).toHaveTextContent("Repayments take 36.50% of income"); // no Spanish text sent
    expect(decision).toHaveTextContent("Observado 36.50 · umbral 35");
  });

  it("marks a fallback credit report clearly", async () => {
    open(reviewed());
    await loaded();
    const report = screen.getByRole("region", { name: "Credit report" });
    expect(within(report).getByText(/Fallback report/)).toBeInTheDocument();
    expect(report).toHaveTextContent("not the bureau's data");
    expect(report).toHaveTextContent("No score");
  });

  it("does not mark a real credit report as fallback", async () => {
    open(reviewed({ creditReport: { provider: "ASNEF", creditScore: 780, fallback: false, reportId: "ASNEF-1" } }));
    await loaded();
    const report = screen.getByRole("region", { name: "Credit report" });
    expect(report).toHaveTextContent("780");
    expect(within(report).queryByText(/Fallback report/)).toBeNull();
  });

  it("lists the audit trail with time, actor, transition and reason", async () => {
    open(reviewed());
    await loaded();
    const rows = document.querySelectorAll<HTMLElement>("tr[data-sequence]");
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveTextContent("dev-analyst");
    expect(rows[0]).toHaveTextContent("Created");
    expect(rows[2]).toHaveTextContent("scoring");
    expect(rows[2]).toHaveTextContent(/Validating\s*→?\s*to\s*Under review/);
    expect(rows[2]).toHaveTextContent("DECISION_REVIEW");
    expect(rows[2]).toHaveTextContent(/2026/);
  });

  it.each(["analyst", "senior_analyst", "admin"])("offers %s approve, reject and cancel on a review", async (role) => {
    open(reviewed(), { role });
    await loaded();
    const actions = screen.getByRole("group", { name: "Actions" });
    expect(within(actions).getAllByRole("button").map((button) => button.textContent)).toEqual([
      "Approve",
      "Reject",
      "Cancel application",
    ]);
  });

  it("offers a partner only the cancelling of its own application", async () => {
    open(reviewed({ partnerId: "partner-dev" }), { role: "partner" });
    await loaded();
    const actions = screen.getByRole("group", { name: "Actions" });
    expect(within(actions).getAllByRole("button").map((button) => button.textContent)).toEqual(["Cancel application"]);
  });

  it("offers a partner nothing on another partner's application", async () => {
    open(reviewed({ partnerId: "someone-else" }), { role: "partner" });
    await loaded();
    expect(screen.queryByRole("group", { name: "Actions" })).toBeNull();
  });

  it("offers no decision once decided, and nothing at all once final", async () => {
    open(reviewed({ status: ApplicationStatus.APPROVED }));
    await loaded();
    expect(within(screen.getByRole("group", { name: "Actions" })).getAllByRole("button").map((b) => b.textContent)).toEqual([
      "Cancel application",
    ]);
  });

  it("offers nothing on a final application", async () => {
    open(reviewed({ status: ApplicationStatus.REJECTED }));
    await loaded();
    expect(screen.queryByRole("group", { name: "Actions" })).toBeNull();
  });

  it("approves with a mandatory reason and the etag it was read with", async () => {
    const application = reviewed();
    const { backend, user } = open(application);
    await loaded();
    const etag = application.etag;
    await user.click(screen.getByRole("button", { name: "Approve" }));
    const dialog = screen.getByRole("dialog", { name: "Approve this application" });
    const reason = within(dialog).getByLabelText("Reason");
    expect(reason).toHaveFocus();

    await user.click(within(dialog).getByRole("button", { name: "Approve" }));
    expect(reason).toHaveAccessibleDescription(/Write the reason/);
    expect(backend.updateRequests).toHaveLength(0);

    await user.type(reason, "Stable income, bureau down: checked payslips");
    await user.click(within(dialog).getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(backend.updateRequests[0]).toMatchObject({
      name: application.name,
      status: ApplicationStatus.APPROVED,
      reason: "Stable income, bureau down: checked payslips",
      etag,
    });
    await waitFor(() => expect(screen.getByText("Approved.")).toHaveFocus());
    expect(document.querySelector(".detail-status [data-status]")).toHaveAttribute("data-status", "APPROVED");
  });

  it("explains a stale etag and refreshes", async () => {
    const application = reviewed();
    const { backend, user } = open(application);
    await loaded();
    backend.actionFailures.push(rpcError(Code.Aborted, "ETAG_MISMATCH"));
    await user.click(screen.getByRole("button", { name: "Reject" }));
    const dialog = screen.getByRole("dialog", { name: "Reject this application" });
    await user.type(within(dialog).getByLabelText("Reason"), "Income not proven");
    await user.click(within(dialog).getByRole("button", { name: "Reject" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("Someone changed this application since you opened it");
    const reads = backend.getCount;
    await user.click(within(alert).getByRole("button", { name: "Refresh" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    await waitFor(() => expect(backend.getCount).toBeGreaterThan(reads));
  });

  it("shows the server's refusal clearly", async () => {
    const { backend, user } = open(reviewed({ requestedAmount: { currencyCode: "EUR", amount: "45000.00" } }));
    await loaded();
    backend.actionFailures.push(
      rpcError(Code.PermissionDenied, "SECOND_APPROVAL_REQUIRED", {
        message: "a second, different analyst must approve amounts above 30000.00",
      }),
    );
    await user.click(screen.getByRole("button", { name: "Approve" }));
    const dialog = screen.getByRole("dialog");
    expect(within(dialog).getByText(/four-eyes threshold of 30\.000,00\s€/)).toBeInTheDocument();
    await user.type(within(dialog).getByLabelText("Reason"), "ok");
    await user.click(within(dialog).getByRole("button", { name: "Approve" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("Not allowed.");
    expect(alert).toHaveTextContent("a second, different analyst must approve amounts above 30000.00");
  });

  it("records a first approval above the four-eyes threshold and says it waits for a second analyst", async () => {
    const { backend, user } = open(reviewed({ requestedAmount: { currencyCode: "EUR", amount: "45000.00" } }));
    backend.fourEyes = true;
    await loaded();
    await user.click(screen.getByRole("button", { name: "Approve" }));
    await user.type(within(screen.getByRole("dialog")).getByLabelText("Reason"), "Solid file");
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(screen.getByText(/First approval recorded/)).toHaveFocus());
    const pending = document.querySelector("[data-pending-approval]");
    expect(pending).toHaveTextContent("Waiting for a second approval.");
    expect(pending).toHaveTextContent("dev-analyst approved");
    expect(pending).toHaveTextContent("Solid file");
    // The same analyst may not give the second approval, but may still reject.
    expect(pending).toHaveTextContent("You gave the first approval");
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
    expect(screen.getByRole("button", { name: "Reject" })).toBeInTheDocument();
  });

  it("offers a different analyst the second approval", async () => {
    open(
      reviewed({
        requestedAmount: { currencyCode: "EUR", amount: "45000.00" },
        pendingApproval: { requestedBy: "dev-analyst", reason: "Solid file" },
      }),
      { role: "senior_analyst" },
    );
    await loaded();
    expect(document.querySelector("[data-pending-approval]")).not.toHaveTextContent("You gave the first approval");
    expect(screen.getByRole("button", { name: "Approve" })).toBeInTheDocument();
  });

  it("keeps the focus inside the dialog, closes on Escape and gives the focus back", async () => {
    const { user } = open(reviewed());
    await loaded();
    const opener = screen.getByRole("button", { name: "Cancel application" });
    await user.click(opener);
    const dialog = screen.getByRole("dialog", { name: "Cancel this application" });
    const reason = within(dialog).getByLabelText("Reason");
    expect(reason).toHaveFocus();
    await user.tab();
    expect(within(dialog).getByRole("button", { name: "Close" })).toHaveFocus();
    await user.tab();
    expect(within(dialog).getByRole("button", { name: "Cancel application" })).toHaveFocus();
    await user.tab();
    expect(reason).toHaveFocus(); // wrapped around
    await user.tab({ shift: true });
    expect(within(dialog).getByRole("button", { name: "Cancel application" })).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(opener).toHaveFocus();
  });

  it("reads the application again when a change to it arrives live", async () => {
    const application = reviewed({ status: ApplicationStatus.VALIDATING, decision: undefined, creditReport: undefined });
    const { backend } = open(application);
    await loaded();
    expect(screen.getByRole("region", { name: "Decision" })).toHaveTextContent("Not decided yet.");
    await waitFor(() => expect(document.querySelector("[data-watch-state]")).toHaveAttribute("data-watch-state", "live"));
    application.decision = reviewed().decision;
    backend.changeStatus(application.name, ApplicationStatus.UNDER_REVIEW, "25.00");
    await waitFor(() => expect(screen.getByRole("region", { name: "Decision" })).toHaveTextContent("Repayments take"));
  });

  it("says so when the application does not exist", async () => {
    const backend = new FakeBackend();
    renderApp(backend, { route: { page: "detail", name: "applications/0190-missing" } });
    expect(await screen.findByRole("alert")).toHaveTextContent("does not exist");
  });
});
