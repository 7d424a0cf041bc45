/** Makes the service clients available to hooks, bound to the session's token. */
import type { Transport } from "@connectrpc/connect";
import { createContext, useContext, useMemo, useRef, type ReactNode } from "react";
import { useSession } from "../auth/session";
import { createClients, type AuthHooks, type Clients } from "./client";

export type TransportFactory = (auth: AuthHooks) => Transport;

const ClientsContext = createContext<Clients | null>(null);

export function ClientsProvider({
  children,
  transport,
}: {
  children: ReactNode;
  /** The console passes the gateway's gRPC-web transport; tests a router transport. */
  transport: TransportFactory;
}) {
  const session = useSession();
  // The interceptor reads the token when a call starts, so the clients outlive sign-in and sign-out.
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const clients = useMemo(
    () =>
      createClients(
        transport({
          token: () => sessionRef.current.token,
          onUnauthenticated: () => {
            if (sessionRef.current.token) sessionRef.current.signOut("rejected");
          },
        }),
      ),
    [transport],
  );
  return <ClientsContext.Provider value={clients}>{children}</ClientsContext.Provider>;
}

export function useClients(): Clients {
  const clients = useContext(ClientsContext);
  if (!clients) throw new Error("useClients outside ClientsProvider");
  return clients;
}
