import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { App } from "../App";
import { DevelopmentTokenSource, PastedTokenSource } from "../auth/tokenSource";
import { Code } from "@connectrpc/connect";
import { FakeBackend, rpcError } from "../test/fakeBackend";
import { testToken } from "../test/tokens";

function devEndpoint(body: unknown, status = 200, contentType = "application/json"): typeof fetch {
  return async () =>
    new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers: { "content-type": contentType } });
}

function renderSignIn(fetcher: typeof fetch) {
  const backend = new FakeBackend();
  render(
    <App
      transport={backend.transport}
      tokenSources={[new DevelopmentTokenSource("/dev/tokens", fetcher), new PastedTokenSource()]}
      backoff={{ delay: () => 5 }}
      language="en"
    />,
  );
  return { backend, user: userEvent.setup() };
}

describe("sign-in", () => {
  it("offers the development identities the stack serves, and signs in as one", async () => {
    const { backend, user } = renderSignIn(
      devEndpoint({ analyst: testToken("analyst"), "partner (partner-dev)": testToken("partner") }),
    );
    await user.click(await screen.findByRole("button", { name: /Analyst/ }));
    expect(await screen.findByRole("heading", { name: "Applications" })).toBeInTheDocument();
    expect(screen.getByText("dev-analyst")).toBeInTheDocument();
    await waitFor(() => expect(backend.authorizations.length).toBeGreaterThan(0));
    expect(backend.authorizations[0]).toMatch(/^Bearer ey/);
    expect(window.sessionStorage.getItem("gcc.console.token")).toBeTruthy();
  });

  it("offers only pasting when the stack serves no development identities", async () => {
    renderSignIn(devEndpoint("<html>not here</html>", 404, "text/html"));
    expect(await screen.findByLabelText("Bearer token")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByText(/Looking for development identities/)).toBeNull());
    expect(screen.queryByRole("heading", { name: "Development identities" })).toBeNull();
  });

  it("refuses what is not a token, and an expired one", async () => {
    const { user } = renderSignIn(devEndpoint({}, 404));
    const field = await screen.findByLabelText("Bearer token");
    await user.type(field, "hello");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(field).toHaveAccessibleDescription(/not a token/);
    await user.clear(field);
    await user.type(field, testToken("analyst", { exp: 1 }));
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(field).toHaveAccessibleDescription(/expired/);
  });

  it("signs in with a pasted token, and out again", async () => {
    const { user } = renderSignIn(devEndpoint({}, 404));
    await user.type(await screen.findByLabelText("Bearer token"), `Bearer ${testToken("senior_analyst")}`);
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("Senior analyst")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByLabelText("Bearer token")).toBeInTheDocument();
    expect(window.sessionStorage.getItem("gcc.console.token")).toBeNull();
  });

  it("ends the session when the server refuses the token", async () => {
    const { backend, user } = renderSignIn(devEndpoint({}, 404));
    backend.listFailures.push(rpcError(Code.Unauthenticated, "TOKEN_INVALID"));
    await user.type(await screen.findByLabelText("Bearer token"), testToken("analyst"));
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("no longer accepts your token");
    expect(screen.getByLabelText("Bearer token")).toBeInTheDocument();
  });

  it("hides New application from a role that may not submit", async () => {
    const { user } = renderSignIn(devEndpoint({}, 404));
    await user.type(await screen.findByLabelText("Bearer token"), testToken("service"));
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await screen.findByRole("heading", { name: "Applications" });
    expect(screen.queryByRole("link", { name: "New application" })).toBeNull();
  });
});
