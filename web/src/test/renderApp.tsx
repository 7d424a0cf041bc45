import { render } from "@testing-library/react";
import { App } from "../App";
import { PastedTokenSource } from "../auth/tokenSource";
import type { Language } from "../i18n/messages";
import type { Route } from "../router";
import { hrefOf } from "../router";
import type { FakeBackend } from "./fakeBackend";
import { testToken } from "./tokens";

/** The whole console over a fake backend, signed in as `role`, at `route`. */
export function renderApp(
  backend: FakeBackend,
  {
    role = "analyst",
    route = { page: "queue" },
    language = "en",
    claims,
    backoffMs = 5,
  }: { role?: string; route?: Route; language?: Language; claims?: Record<string, unknown>; backoffMs?: number } = {},
) {
  window.location.hash = hrefOf(route);
  return render(
    <App
      transport={backend.transport}
      tokenSources={[new PastedTokenSource()]}
      backoff={{ delay: () => backoffMs }}
      language={language}
      initialToken={testToken(role, claims)}
    />,
  );
}
