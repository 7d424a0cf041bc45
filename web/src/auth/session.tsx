/**
 * The signed-in session: the token (kept in sessionStorage, so it dies with the tab), the principal read
 * from it, and why the last session ended.
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { isExpired, readPrincipal, type Principal } from "./principal";

const STORAGE_KEY = "gcc.console.token";

export type EndReason = "signedOut" | "expired" | "rejected";

export interface Session {
  token: string | null;
  principal: Principal | null;
  endReason: EndReason | null;
  signIn(token: string): void;
  signOut(reason?: EndReason): void;
}

const SessionContext = createContext<Session | null>(null);

function restore(storage: Storage | undefined): string | null {
  const token = storage?.getItem(STORAGE_KEY) ?? null;
  if (!token) return null;
  try {
    return isExpired(readPrincipal(token)) ? null : token;
  } catch {
    return null;
  }
}

function sessionStore(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined; // storage disabled: the token lives in memory only
  }
}

export function SessionProvider({ children, initialToken }: { children: ReactNode; initialToken?: string }) {
  const storage = sessionStore();
  const [token, setToken] = useState<string | null>(() => initialToken ?? restore(storage));
  const [endReason, setEndReason] = useState<EndReason | null>(null);

  const signIn = useCallback(
    (next: string) => {
      storage?.setItem(STORAGE_KEY, next);
      setEndReason(null);
      setToken(next);
    },
    [storage],
  );
  const signOut = useCallback(
    (reason: EndReason = "signedOut") => {
      storage?.removeItem(STORAGE_KEY);
      setEndReason(reason);
      setToken(null);
    },
    [storage],
  );

  const value = useMemo<Session>(() => {
    let principal: Principal | null = null;
    if (token) {
      try {
        principal = readPrincipal(token);
      } catch {
        principal = null;
      }
    }
    return { token: principal ? token : null, principal, endReason, signIn, signOut };
  }, [token, endReason, signIn, signOut]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** For components that only render when signed in. */
export function usePrincipal(): Principal {
  const { principal } = useSession();
  if (!principal) throw new Error("usePrincipal while signed out");
  return principal;
}
