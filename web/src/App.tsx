/** The console: providers (language, session, clients, live watch), sign-in, and the three pages. */
import { useMemo, useState } from "react";
import { ClientsProvider, type TransportFactory } from "./api/ClientsProvider";
import { createGatewayTransport } from "./api/client";
import { useSession, SessionProvider } from "./auth/session";
import { DevelopmentTokenSource, PastedTokenSource, type TokenSource } from "./auth/tokenSource";
import { ApplicationDetail } from "./components/detail/ApplicationDetail";
import { NewApplicationForm } from "./components/form/NewApplicationForm";
import { Header } from "./components/Header";
import { ApplicationQueue } from "./components/queue/ApplicationQueue";
import { SignIn } from "./components/SignIn";
import { WatchProvider, type Backoff } from "./hooks/useWatch";
import { I18nProvider, useI18n } from "./i18n/I18nProvider";
import type { Language } from "./i18n/messages";
import { useRoute } from "./router";

export const DEFAULT_TOKEN_SOURCES: readonly TokenSource[] = [new DevelopmentTokenSource(), new PastedTokenSource()];

export interface AppProps {
  /** The gateway's base URL (see resolveGatewayUrl); ignored when `transport` is given. */
  gatewayUrl?: string;
  tokenSources?: readonly TokenSource[];
  transport?: TransportFactory;
  backoff?: Backoff;
  language?: Language;
  initialToken?: string;
}

export function App({ gatewayUrl, tokenSources = DEFAULT_TOKEN_SOURCES, transport, backoff, language, initialToken }: AppProps) {
  const factory = useMemo<TransportFactory>(
    () => transport ?? ((auth) => createGatewayTransport(gatewayUrl ?? window.location.origin, auth)),
    [transport, gatewayUrl],
  );
  return (
    <I18nProvider language={language}>
      <SessionProvider initialToken={initialToken}>
        <ClientsProvider transport={factory}>
          <Console tokenSources={tokenSources} backoff={backoff} />
        </ClientsProvider>
      </SessionProvider>
    </I18nProvider>
  );
}

function Console({ tokenSources, backoff }: { tokenSources: readonly TokenSource[]; backoff?: Backoff }) {
  const { principal } = useSession();
  const { t } = useI18n();
  const route = useRoute();
  // Following "New application" always gives an empty form, even from the page of one just submitted.
  const [formKey, setFormKey] = useState(0);
  if (!principal) return <SignIn sources={tokenSources} />;
  return (
    // Keyed by subject: a new identity gets a fresh stream with its own permissions.
    <WatchProvider key={principal.subject} backoff={backoff}>
      <a
        className="skip-link"
        href="#main"
        onClick={(event) => {
          // The hash holds the route: move the focus without touching it.
          event.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        {t("app.skip")}
      </a>
      <Header route={route} onNewForm={() => setFormKey((key) => key + 1)} />
      <main id="main" tabIndex={-1}>
        {route.page === "new" && <NewApplicationForm key={formKey} />}
        {route.page === "detail" && <ApplicationDetail key={route.name} name={route.name} />}
        {route.page === "queue" && <ApplicationQueue />}
      </main>
    </WatchProvider>
  );
}
